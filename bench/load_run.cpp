#include "bench/load_run.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "gateway/http_client.h"
#include "scep/ca_caps.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

// Empty when the reply is a valid SUCCESS for `device`; otherwise why it is not.
std::string CheckCertRep(const DeviceRequest& device, const std::string& body, bool open_reply) {
  auto reply = scep::ParsePkiMessage(scep::AsBytes(body));
  if (!reply) return "reply is not a pkiMessage: " + reply.error().detail;
  if (auto verified = scep::VerifyPkiMessage(*reply); !verified) {
    return "reply signature does not verify: " + verified.error().detail;
  }
  if (reply->message_type != scep::MessageType::CertRep) return "reply is not a CertRep";
  if (reply->pki_status != scep::PkiStatus::Success) {
    const std::string status = reply->pki_status ? scep::to_string(*reply->pki_status) : "missing";
    const std::string fail = reply->fail_info ? " failInfo=" + scep::to_string(*reply->fail_info) : "";
    return "pkiStatus " + status + fail + (reply->fail_info_text.empty() ? "" : " (" + reply->fail_info_text + ")");
  }
  if (reply->transaction_id != device.transaction_id) return "reply carries another transactionID";
  if (reply->recipient_nonce != device.sender_nonce) return "recipientNonce does not echo our senderNonce";
  if (!open_reply) return {};
  auto contents = scep::OpenCertRep(*reply, device.signer_cert.get(), device.key);
  if (!contents) return "cannot open the reply: " + contents.error().detail;
  if (contents->certs.empty()) return "the reply holds no certificate";
  const std::string subject = scep::NameToString(X509_get_subject_name(contents->certs.front().get()));
  if (subject != "CN=" + device.common_name) return "issued certificate has subject " + subject;
  return {};
}

// One connection's loop: takes the next unsent request until none is left.
class ConnectionWorker {
 public:
  ConnectionWorker(const Target& target, const std::vector<DeviceRequest>& requests, const RunOptions& options,
                   std::atomic<std::size_t>& next)
      : target_(target), requests_(requests), options_(options), next_(next) {}

  void Run(RunResult& shared, std::mutex& shared_mutex) {
    gateway::HttpClient client(target_.host, target_.port);
    const std::string url = target_.path + "?operation=PKIOperation";
    RunResult mine;
    for (std::size_t i = next_++; i < requests_.size(); i = next_++) {
      const DeviceRequest& device = requests_[i];
      const auto start = Clock::now();
      auto response = client.Post(url, device.body, scep::kPkiMessageContentType);
      mine.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      std::string why;
      if (!response) {
        why = "HTTP error: " + response.error().detail;
      } else if (response->status != 200) {
        why = "HTTP status " + std::to_string(response->status) + ": " + response->body.substr(0, 120);
      } else {
        why = CheckCertRep(device, response->body, options_.open_replies);
      }
      if (why.empty()) {
        ++mine.succeeded;
      } else {
        ++mine.failed;
        ++mine.failure_reasons[why];
      }
    }
    std::lock_guard lock(shared_mutex);
    shared.succeeded += mine.succeeded;
    shared.failed += mine.failed;
    for (const auto& [why, count] : mine.failure_reasons) shared.failure_reasons[why] += count;
    shared.latencies_ms.insert(shared.latencies_ms.end(), mine.latencies_ms.begin(), mine.latencies_ms.end());
  }

 private:
  const Target& target_;
  const std::vector<DeviceRequest>& requests_;
  const RunOptions& options_;
  std::atomic<std::size_t>& next_;
};

}  // namespace

RunResult RunEnrollments(const Target& target, const std::vector<DeviceRequest>& requests,
                         const RunOptions& options) {
  RunResult result;
  std::mutex result_mutex;
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (unsigned c = 0; c < options.connections; ++c) {
      threads.emplace_back([&] { ConnectionWorker(target, requests, options, next).Run(result, result_mutex); });
    }
  }  // joins
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace bench
