#include "bench/device_requests.h"

#include <optional>
#include <thread>

#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca-backend/key_spec.h"
#include "scep/algorithms.h"

namespace bench {
namespace {

scep::Result<scep::UniquePtr<X509_NAME>> CommonNameSubject(const std::string& common_name) {
  scep::UniquePtr<X509_NAME> name(X509_NAME_new());
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (!name || X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot build subject " + common_name);
  }
  return name;
}

// A PKCS#10 request for `subject` carrying the challenge password, signed by `key`.
scep::Result<scep::Bytes> BuildCsr(EVP_PKEY* key, const X509_NAME* subject, const RequestOptions& options) {
  scep::UniquePtr<X509_REQ> req(X509_REQ_new());
  const auto* challenge = reinterpret_cast<const unsigned char*>(options.challenge.c_str());
  const bool ok = req && X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) == 1 &&
                  X509_REQ_set_subject_name(req.get(), subject) == 1 && X509_REQ_set_pubkey(req.get(), key) == 1 &&
                  X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8, challenge,
                                            static_cast<int>(options.challenge.size())) == 1 &&
                  X509_REQ_sign(req.get(), key, scep::FetchDigest(options.digest)) > 0;
  if (!ok) return scep::OpensslError(scep::ErrorCode::Internal, "cannot build the certification request");
  return scep::ReqToDer(req.get());
}

scep::Result<scep::Bytes> RandomBytes(std::size_t size) {
  scep::Bytes bytes(size);
  if (RAND_bytes(bytes.data(), static_cast<int>(size)) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "no random bytes");
  }
  return bytes;
}

scep::Result<DeviceRequest> BuildDeviceRequest(std::size_t index, EVP_PKEY* key, X509* ca_cert,
                                               const std::string& run_tag, const RequestOptions& options) {
  DeviceRequest device;
  device.common_name = "bench-" + run_tag + "-device-" + std::to_string(index);
  device.transaction_id = "bench-" + run_tag + "-txn-" + std::to_string(index);
  device.key = key;
  auto subject = CommonNameSubject(device.common_name);
  if (!subject) return subject.error();
  auto csr = BuildCsr(key, subject->get(), options);
  if (!csr) return csr.error();
  auto signer_cert = scep::MakeSelfSignedCert(key, subject->get(), options.digest);
  if (!signer_cert) return signer_cert.error();
  device.signer_cert = std::move(*signer_cert);
  auto nonce = RandomBytes(16);
  if (!nonce) return nonce.error();
  device.sender_nonce = std::move(*nonce);

  scep::PkiRequest request;
  request.type = scep::MessageType::PkcsReq;
  request.transaction_id = device.transaction_id;
  request.sender_nonce = device.sender_nonce;
  request.content = std::move(*csr);
  request.recipient = ca_cert;
  request.cipher = options.cipher;
  request.signer = {device.signer_cert.get(), key};
  request.digest = options.digest;
  auto der = scep::BuildPkiRequest(request);
  if (!der) return der.error();
  device.body = scep::AsString(*der);
  return device;
}

// Runs build(i) for i in [0, count) on `threads` threads; returns the first error any of them met.
template <typename BuildOne>
scep::Result<void> BuildInParallel(std::size_t count, unsigned threads, BuildOne build) {
  std::vector<std::optional<scep::Error>> errors(threads);
  std::vector<std::jthread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = t; i < count && !errors[t]; i += threads) {
        if (auto built = build(i); !built) errors[t] = built.error();
      }
    });
  }
  workers.clear();  // joins
  for (auto& error : errors) {
    if (error) return std::move(*error);
  }
  return {};
}

}  // namespace

scep::Result<DeviceBatch> BuildDeviceBatch(std::size_t devices, X509* ca_cert, const std::string& run_tag,
                                           const RequestOptions& options) {
  const unsigned threads = std::max(1u, options.build_threads);
  const std::size_t pool_size = std::max<std::size_t>(1, std::min(options.key_pool_size, devices));
  DeviceBatch batch;
  batch.key_pool.resize(pool_size);
  auto keys = BuildInParallel(pool_size, threads, [&](std::size_t i) -> scep::Result<void> {
    auto key = ca::GenerateKey(ca::KeySpec::Rsa2048);
    if (!key) return key.error();
    batch.key_pool[i] = std::move(*key);
    return {};
  });
  if (!keys) return keys.error();

  batch.requests.resize(devices);
  auto requests = BuildInParallel(devices, threads, [&](std::size_t i) -> scep::Result<void> {
    auto request = BuildDeviceRequest(i, batch.key_pool[i % pool_size].get(), ca_cert, run_tag, options);
    if (!request) return request.error();
    batch.requests[i] = std::move(*request);
    return {};
  });
  if (!requests) return requests.error();
  return batch;
}

}  // namespace bench
