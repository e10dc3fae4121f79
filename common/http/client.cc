#include "common/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace shardwise::http {
namespace {

std::once_flag curl_init_once;

// Splits "scheme://host[:port]/rest" into its parts; false when it is not such a URL.
bool SplitUrl(const std::string& url, std::string* scheme, std::string* host, std::string* port,
              std::string* rest) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) return false;
  *scheme = url.substr(0, sep);
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  *rest = end == std::string::npos ? "" : url.substr(end);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    *host = authority.substr(0, colon);
    *port = authority.substr(colon + 1);
  } else {
    *host = authority;
    *port = *scheme == "https" ? "443" : "80";
  }
  return !host->empty();
}

struct Transfer {
  Client::StreamId id = 0;
  ClientRequest request;
  DoneCallback done;
  std::function<bool(std::string_view)> on_data;
  ClientResponse response;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_slist* connect_to = nullptr;
  std::string effective_url;
  char errbuf[CURL_ERROR_SIZE] = {};
  size_t body_bytes = 0;
  bool over_limit = false;
  bool cancelled = false;

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
    if (connect_to) curl_slist_free_all(connect_to);
  }
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  t->body_bytes += len;
  if (t->request.max_body_bytes != 0 && t->body_bytes > t->request.max_body_bytes) {
    t->over_limit = true;
    return 0;  // aborts the transfer
  }
  if (t->on_data) {
    if (!t->on_data(std::string_view(data, len))) {
      t->cancelled = true;
      return 0;
    }
  } else {
    if (t->response.body.empty() && t->request.body_size_hint > len) {
      size_t hint = t->request.body_size_hint;
      if (t->request.max_body_bytes != 0) hint = std::min(hint, t->request.max_body_bytes);
      t->response.body.reserve(hint);
    }
    t->response.body.append(data, len);
  }
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
      s.remove_suffix(1);
    return s;
  };
  t->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                   std::string(trim(line.substr(colon + 1))));
  return size * n;
}

void SetBlob(CURL* easy, CURLoption opt, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(easy, opt, &blob);
}

}  // namespace

struct Client::Impl {
  Options options;
  CURLM* multi = nullptr;
  std::thread loop;
  std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> pending;
  std::vector<StreamId> cancels;
  std::unordered_map<StreamId, std::unique_ptr<Transfer>> active;
  std::atomic<StreamId> next_id{1};
  std::atomic<bool> stopping{false};

  void Configure(Transfer& t) {
    CURL* e = curl_easy_init();
    t.easy = e;
    const ClientRequest& r = t.request;
    t.effective_url = r.url;
    std::string scheme, host, port, rest;
    if (!r.tls.server_name.empty() && SplitUrl(r.url, &scheme, &host, &port, &rest) &&
        host != r.tls.server_name) {
      // tls_config.server_name: send it as SNI and verify the certificate against it, while
      // connecting to the URL's host and sending the URL's Host header, as Prometheus does.
      t.effective_url = scheme + "://" + r.tls.server_name + ":" + port + rest;
      std::string entry = r.tls.server_name + ":" + port + ":" + host + ":" + port;
      t.connect_to = curl_slist_append(t.connect_to, entry.c_str());
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, t.connect_to);
      std::string host_header = "Host: " + host + ":" + port;
      t.header_list = curl_slist_append(t.header_list, host_header.c_str());
    }
    curl_easy_setopt(e, CURLOPT_URL, t.effective_url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     r.timeout.count() > 0 ? static_cast<long>(r.timeout.count()) : 30000L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN,
                     static_cast<long>(options.idle_connection_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (r.accept_gzip) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    // Never wait for "100 Continue".
    t.header_list = curl_slist_append(t.header_list, "Expect:");
    for (const auto& [k, v] : r.headers) {
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    if (!r.bearer_token.empty()) {
      std::string line = "Authorization: Bearer " + r.bearer_token;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
    if (r.basic_auth) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(e, CURLOPT_USERNAME, r.basic_auth->first.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, r.basic_auth->second.c_str());
    }
    const TlsOptions& tls = r.tls;
    if (!tls.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, tls.ca_file.c_str());
    if (!tls.ca_pem.empty()) SetBlob(e, CURLOPT_CAINFO_BLOB, tls.ca_pem);
    if (!tls.cert_file.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, tls.cert_file.c_str());
    if (!tls.key_file.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, tls.key_file.c_str());
    if (!tls.cert_pem.empty()) {
      SetBlob(e, CURLOPT_SSLCERT_BLOB, tls.cert_pem);
      curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!tls.key_pem.empty()) {
      SetBlob(e, CURLOPT_SSLKEY_BLOB, tls.key_pem);
      curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }

  void Finish(std::unique_ptr<Transfer> t, CURLcode code) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    double secs = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
    long new_connections = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &new_connections);
    curl_multi_remove_handle(multi, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    DoneCallback done = std::move(t->done);
    if (t->cancelled) {
      done(Status::Aborted("request to " + t->request.url + " cancelled"));
      return;
    }
    if (t->over_limit) {
      done(Status::ResourceExhausted("response body from " + t->request.url + " exceeds " +
                                     std::to_string(t->request.max_body_bytes) + " bytes"));
      return;
    }
    if (code != CURLE_OK) {
      std::string msg = t->request.method + " " + t->request.url + ": " +
                        (t->errbuf[0] ? std::string(t->errbuf) : curl_easy_strerror(code));
      if (code == CURLE_OPERATION_TIMEDOUT) {
        done(Status::DeadlineExceeded(msg));
      } else {
        done(Status::Unavailable(msg));
      }
      return;
    }
    t->response.status = static_cast<int>(status);
    t->response.seconds = secs;
    t->response.new_connection = new_connections > 0;
    done(std::move(t->response));
  }

  void Run() {
    while (true) {
      std::deque<std::unique_ptr<Transfer>> add;
      std::vector<StreamId> cancel;
      {
        std::lock_guard lock(mu);
        add.swap(pending);
        cancel.swap(cancels);
      }
      for (auto& t : add) {
        Configure(*t);
        curl_multi_add_handle(multi, t->easy);
        StreamId id = t->id;
        active[id] = std::move(t);
      }
      for (StreamId id : cancel) {
        auto it = active.find(id);
        if (it == active.end()) continue;
        auto t = std::move(it->second);
        active.erase(it);
        t->cancelled = true;
        Finish(std::move(t), CURLE_ABORTED_BY_CALLBACK);
      }
      if (stopping && active.empty()) {
        std::lock_guard lock(mu);
        if (pending.empty()) return;
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int queued = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
        if (m->msg != CURLMSG_DONE) continue;
        Transfer* raw = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&raw));
        CURLcode code = m->data.result;
        auto it = active.find(raw->id);
        auto t = std::move(it->second);
        active.erase(it);
        Finish(std::move(t), code);
      }
      if (stopping) {
        // Abort what is still in flight so shutdown is prompt.
        for (auto& [id, t] : active) t->cancelled = true;
        std::vector<std::unique_ptr<Transfer>> left;
        for (auto& [id, t] : active) left.push_back(std::move(t));
        active.clear();
        for (auto& t : left) Finish(std::move(t), CURLE_ABORTED_BY_CALLBACK);
        continue;
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }

  StreamId Submit(std::unique_ptr<Transfer> t) {
    StreamId id = next_id++;
    t->id = id;
    {
      std::lock_guard lock(mu);
      if (stopping) {
        auto done = std::move(t->done);
        done(Status::Aborted("HTTP client is shutting down"));
        return id;
      }
      pending.push_back(std::move(t));
    }
    curl_multi_wakeup(multi);
    return id;
  }
};

Client::Client() : Client(Options()) {}

Client::Client(Options options) : impl_(std::make_unique<Impl>()) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->options = std::move(options);
  impl_->multi = curl_multi_init();
  if (impl_->options.max_connections_per_host > 0) {
    curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      impl_->options.max_connections_per_host);
  }
  if (impl_->options.max_idle_connections > 0) {
    curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, impl_->options.max_idle_connections);
  }
  if (impl_->options.max_total_connections > 0) {
    curl_multi_setopt(impl_->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      impl_->options.max_total_connections);
  }
  impl_->loop = std::thread([this] { impl_->Run(); });
}

Client::~Client() {
  impl_->stopping = true;
  curl_multi_wakeup(impl_->multi);
  impl_->loop.join();
  curl_multi_cleanup(impl_->multi);
}

Client::StreamId Client::Do(ClientRequest request, DoneCallback done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  return impl_->Submit(std::move(t));
}

Result<ClientResponse> Client::DoSync(ClientRequest request) {
  std::promise<Result<ClientResponse>> p;
  auto f = p.get_future();
  Do(std::move(request), [&p](Result<ClientResponse> r) { p.set_value(std::move(r)); });
  return f.get();
}

Client::StreamId Client::DoStream(ClientRequest request,
                                  std::function<bool(std::string_view)> on_data,
                                  DoneCallback done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->on_data = std::move(on_data);
  t->done = std::move(done);
  return impl_->Submit(std::move(t));
}

void Client::Cancel(StreamId id) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cancels.push_back(id);
  }
  curl_multi_wakeup(impl_->multi);
}

Client& Client::Shared() {
  static Client* c = new Client;
  return *c;
}

}  // namespace shardwise::http
