// Unwrapping a scep::Result that a test cannot go on without: the test stops there, showing the error.
#pragma once

#include <doctest/doctest.h>

#include <utility>

#include "scep/result.h"

namespace test {

template <typename T>
T RequireOk(scep::Result<T> result) {
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().ToString()));
  return std::move(*result);
}

inline void RequireOk(const scep::Result<void>& result) {
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().ToString()));
}

}  // namespace test
