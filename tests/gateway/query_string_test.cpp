#include "gateway/query_string.h"

#include <doctest/doctest.h>

using gateway::PercentDecode;
using gateway::QueryParam;

TEST_CASE("PercentDecode decodes %XX in either case and keeps '+'") {
  CHECK(PercentDecode("abc") == "abc");
  CHECK(PercentDecode("a%2Bb") == "a+b");
  CHECK(PercentDecode("a%2bb") == "a+b");
  CHECK(PercentDecode("a+b") == "a+b");
  CHECK(PercentDecode("%2F%3d") == "/=");
  CHECK(PercentDecode("line%0Anext") == "line\nnext");
  CHECK(PercentDecode("%00") == std::string(1, '\0'));
  CHECK(PercentDecode("%ff") == std::string(1, '\xff'));
  CHECK(PercentDecode("") == "");
}

TEST_CASE("PercentDecode keeps invalid sequences literally") {
  CHECK(PercentDecode("%") == "%");
  CHECK(PercentDecode("abc%") == "abc%");
  CHECK(PercentDecode("abc%4") == "abc%4");
  CHECK(PercentDecode("%G1") == "%G1");
  CHECK(PercentDecode("%1G") == "%1G");
  CHECK(PercentDecode("100%") == "100%");
  CHECK(PercentDecode("%%41") == "%A");
  CHECK(PercentDecode("%zz%41") == "%zzA");
}

TEST_CASE("QueryParam finds SCEP parameters with base64 intact") {
  const std::string query = "operation=PKIOperation&message=MIIB%2Bab+cd%2F%3D%3D";
  CHECK(QueryParam(query, "operation") == "PKIOperation");
  CHECK(QueryParam(query, "message") == "MIIB+ab+cd/==");
  CHECK(QueryParam("message=ab%0Acd", "message") == "ab\ncd");
  CHECK(QueryParam("message=MIIB+x==", "message") == "MIIB+x==");  // raw '=' inside the value is kept
}

TEST_CASE("QueryParam: missing, empty and repeated parameters") {
  CHECK_FALSE(QueryParam("", "operation").has_value());
  CHECK_FALSE(QueryParam("operation=GetCACert", "message").has_value());
  CHECK_FALSE(QueryParam("operation=GetCACert", "Operation").has_value());  // case-sensitive
  CHECK_FALSE(QueryParam("xoperation=1&operationx=2", "operation").has_value());
  CHECK(QueryParam("message=&operation=GetCACaps", "message") == "");
  CHECK(QueryParam("flag&operation=GetCACaps", "flag") == "");
  CHECK(QueryParam("operation=GetCACert&operation=GetCACaps", "operation") == "GetCACert");
  CHECK(QueryParam("a=1&&operation=x&", "operation") == "x");
  CHECK_FALSE(QueryParam("a=1&&b=2", "").has_value());
  CHECK(QueryParam("op%65ration=GetCACaps", "operation") == "GetCACaps");  // names are decoded too
  CHECK(QueryParam("message=%zz", "message") == "%zz");
}
