#include "common/http/server.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <cstring>
#include <list>
#include <optional>
#include <system_error>
#include <unordered_map>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log/log.h"
#include "common/metrics/registry.h"
#include "common/utf8.h"

namespace shardwise::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Handler Simple(SimpleHandler fn) {
  return [fn = std::move(fn)](const Request& req, ResponseWriter& w) { w.Send(fn(req)); };
}

Handler Methods(std::vector<std::string> allowed, Handler handler) {
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  return [allowed = std::move(allowed), allow, handler = std::move(handler)](const Request& req,
                                                                             ResponseWriter& w) {
    for (const auto& m : allowed) {
      if (m == req.method) {
        handler(req, w);
        return;
      }
    }
    w.Send(Response::Text(405, "method " + req.method + " not allowed; use " + allow + "\n")
               .With("Allow", allow));
  };
}

Status ParseHostPort(std::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("address \"" + std::string(address) + "\" has no port");
  }
  std::string_view h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string_view p = address.substr(colon + 1);
  int value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || ptr != p.data() + p.size() || value < 0 || value > 65535) {
    return Status::InvalidArgument("address \"" + std::string(address) + "\" has a bad port");
  }
  *host = std::string(h);
  *port = value;
  return Status::OK();
}

namespace {

metrics::Gauge& OpenConnections() {
  static auto& g = metrics::Registry::Default().AddGauge(
      "shardwise_http_server_connections", "Open connections of this process's HTTP servers.");
  return g;
}

metrics::Counter& Closed(const char* reason) {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_http_server_connections_closed_total",
      "Connections the HTTP servers closed on their own, by reason: limit (refused at "
      "max_connections), evicted (idle or slow, displaced by a new connection), idle_timeout, "
      "header_timeout, body_timeout.",
      {"reason"});
  return f.With({reason});
}

metrics::Counter& Rejected(int code) {
  static auto& f = metrics::Registry::Default().AddCounterFamily(
      "shardwise_http_server_rejected_requests_total",
      "Requests the HTTP servers answered before any handler, by status code (400 malformed, "
      "413 body, 414 request line, 431 headers, 500 handler failure).",
      {"code"});
  return f.With({std::to_string(code)});
}

std::string NameEntry(X509_NAME* name, int index) {
  X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, index);
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// The verified chain of the client's certificate; empty when it presented none.
PeerCertificate ReadPeerCertificate(SSL* ssl) {
  PeerCertificate peer;
  if (SSL_get_verify_result(ssl) != X509_V_OK) return peer;
  STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
  if (chain == nullptr || sk_X509_num(chain) == 0) return peer;
  X509_NAME* subject = X509_get_subject_name(sk_X509_value(chain, 0));
  int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) peer.subject_cn = NameEntry(subject, cn);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;)
    peer.organizations.push_back(NameEntry(subject, i));
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (PEM_write_bio_X509(bio, sk_X509_value(chain, i)) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      peer.chain_pem.emplace_back(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  }
  return peer;
}

// Where a connection is; the event loop enforces each phase's deadline.
enum class Phase {
  kIdle,     // no thread; in the epoll set, waiting for bytes
  kHeader,   // TLS handshake, request line and headers
  kBody,     // request body
  kHandler,  // a handler runs (no deadline: long polls and streams are legitimate)
};

struct Connection {
  uint64_t id = 0;
  int fd = -1;
  std::string remote;
  std::optional<tcp::socket> plain;
  // The context this connection was accepted with; outlives `tls` (declared before it), so a
  // certificate reload never pulls it from under a handshake.
  std::shared_ptr<net::ssl::context> ssl;
  std::unique_ptr<beast::ssl_stream<tcp::socket>> tls;
  bool handshaken = false;
  beast::flat_buffer buffer;
  PeerCertificate peer;
  // Guarded by Server::Impl::mu.
  Phase phase = Phase::kIdle;
  Clock::time_point since;
  Clock::time_point deadline = Clock::time_point::max();
  bool doomed = false;  // shut down by the server (evicted, timed out, stopping)

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
};

enum class Outcome { kIdle, kClose };

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_more && ec != bhttp::error::need_buffer;
}

}  // namespace

struct Server::Impl {
  Server* server = nullptr;
  net::io_context ioc;
  std::shared_ptr<net::ssl::context> ssl;  // guarded by mu (ReloadTls swaps it)
  tcp::acceptor acceptor{ioc};
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread loop_thread;
  std::atomic<bool> stopping{false};
  Clock::time_point accept_paused_until{};

  std::mutex mu;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> conns;  // guarded by mu
  size_t doomed = 0;                                                // guarded by mu
  uint64_t next_id = 2;  // 0 is the listener, 1 the wake-up eventfd
  struct Worker {
    std::thread thread;
    bool done = false;
  };
  std::list<Worker> workers;  // guarded by mu

  const Options& options() const { return server->options_; }

  void Loop();
  void AcceptAll();
  void Activate(uint64_t id);
  void Sweep();
  // Closes the connection idle longest; with `slow_too`, else dooms the oldest one still
  // sending its request head. False when there was none.
  bool EvictOneLocked(bool slow_too);
  void CloseIdleLocked(const std::shared_ptr<Connection>& c, const char* reason);
  void Doom(Connection& c, const char* reason);
  void SetPhase(Connection& c, Phase phase, std::chrono::milliseconds limit);
  void Serve(const std::shared_ptr<Connection>& c);
  void Finish(const std::shared_ptr<Connection>& c, Outcome outcome);
  void ReapWorkers(bool all);
};

namespace {

// One activation of a connection: serves requests until the connection is idle (no bytes
// buffered) or must close. Templated on plain TCP or TLS.
template <class Stream>
class Session final : public ResponseWriter {
 public:
  using SetPhase = std::function<void(Phase, std::chrono::milliseconds)>;
  Session(const Server::Options& options, Connection& conn, Stream& stream,
          std::function<const Handler*(const std::string&)> route, SetPhase set_phase)
      : options_(options),
        conn_(conn),
        stream_(stream),
        route_(std::move(route)),
        set_phase_(std::move(set_phase)) {}

  Outcome Run() {
    const auto& o = options_;
    while (!broken_) {
      head_ = false;
      version_ = 11;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(o.max_body_bytes);
      parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
      beast::error_code ec;
      bhttp::read_header(stream_, conn_.buffer, parser, ec);
      if (ec == bhttp::error::header_limit) {
        // The parser keeps the target once the request line is complete: none means the
        // line alone ran past the limit.
        std::string_view target = parser.get().target();
        bool line = target.empty() || target.size() > o.max_request_line_bytes;
        return Reject(line ? 414 : 431,
                      line ? "request line too long" : "request header too large");
      }
      if (ec == bhttp::error::body_limit) return Reject(413, "request body too large");
      if (IsParseError(ec)) return Reject(400, "malformed request: " + ec.message());
      if (ec) return Outcome::kClose;
      auto& hdr = parser.get();
      version_ = hdr.version();
      head_ = hdr.method() == bhttp::verb::head;
      if (hdr.target().size() > o.max_request_line_bytes) {
        return Reject(414, "request target longer than " +
                               std::to_string(o.max_request_line_bytes) + " bytes");
      }
      if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
        // curl sends Expect for larger bodies and would otherwise wait a second for us.
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version_};
        bhttp::write(stream_, cont, ec);
        if (ec) return Outcome::kClose;
      }
      set_phase_(Phase::kBody, o.read_timeout);
      bhttp::read(stream_, conn_.buffer, parser, ec);
      if (ec == bhttp::error::body_limit) return Reject(413, "request body too large");
      if (IsParseError(ec)) return Reject(400, "malformed request: " + ec.message());
      if (ec) return Outcome::kClose;
      set_phase_(Phase::kHandler, std::chrono::milliseconds::max());
      Serve(parser.release());
      if (!keep_alive_ || broken_) return Outcome::kClose;
      if (!MoreBuffered()) return Outcome::kIdle;
      set_phase_(Phase::kHeader, o.header_timeout);  // a pipelined request
    }
    return Outcome::kClose;
  }

  void Send(Response r) override {
    if (responded_) return;
    responded_ = true;
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version_};
    res.set(bhttp::field::server, "shardwise");
    for (auto& [k, v] : r.headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    beast::error_code ec;
    if (head_) {
      bhttp::response<bhttp::empty_body> head{res.base()};
      head.content_length(r.body.size());
      bhttp::write(stream_, head, ec);
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
      bhttp::write(stream_, res, ec);
    }
    if (ec) broken_ = true;
  }

  bool BeginStream(int status, const Headers& headers) override {
    if (responded_) return !broken_;
    responded_ = streaming_ = true;
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    res.set(bhttp::field::server, "shardwise");
    for (const auto& [k, v] : headers) res.insert(k, v);
    res.keep_alive(keep_alive_ && !head_);
    res.chunked(!head_);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(stream_, sr, ec);
    if (ec) broken_ = true;
    if (head_) keep_alive_ = false;  // no chunked body follows; the close ends the response
    return !broken_;
  }

  bool Write(std::string_view chunk) override {
    if (broken_ || !streaming_ || chunk.empty() || head_) return !broken_;
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk(net::const_buffer(chunk.data(), chunk.size())), ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  void End() override {
    if (!streaming_ || ended_) return;
    ended_ = true;
    if (broken_ || head_) return;
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk_last(), ec);
    if (ec) broken_ = true;
  }

  bool ClientGone() override {
    if (broken_) return true;
    pollfd p{conn_.fd, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) broken_ = true;
    return broken_;
  }

 private:
  Outcome Reject(int status, const std::string& why) {
    Rejected(status).Inc();
    keep_alive_ = false;
    responded_ = false;
    Send(Response::Text(status, why + "\n"));
    return Outcome::kClose;
  }

  bool MoreBuffered() {
    if (conn_.buffer.size() > 0) return true;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<tcp::socket>>) {
      return SSL_has_pending(stream_.native_handle()) == 1;
    }
    return false;
  }

  void Serve(bhttp::request<bhttp::string_body> req) {
    responded_ = streaming_ = ended_ = false;
    keep_alive_ = req.keep_alive();
    Request r;
    r.method = std::string(req.method_string());
    std::string_view target = req.target();
    size_t q = target.find('?');
    r.path = PercentDecode(target.substr(0, q));
    if (r.path.empty() || r.path[0] != '/' || !IsValidUtf8(r.path)) {
      Rejected(400).Inc();
      keep_alive_ = false;
      Send(Response::Text(400, "malformed request: the path must start with / and be UTF-8\n"));
      return;
    }
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    for (const auto& f : req)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(req.body());
    r.remote_address = conn_.remote;
    r.tls = conn_.tls != nullptr;
    r.peer_certificate = conn_.peer;
    const Handler* h = route_(r.path);
    if (h == nullptr) {
      Send(Response::Text(404, "404 page not found\n"));
      return;
    }
    try {
      (*h)(r, *this);
    } catch (const std::exception& e) {
      log::Error("HTTP handler failed", {{"path", r.path}, {"err", e.what()}});
      if (streaming_) broken_ = true;  // a half-sent stream cannot be repaired
    } catch (...) {
      log::Error("HTTP handler failed", {{"path", r.path}});
      if (streaming_) broken_ = true;
    }
    if (!responded_) {
      Rejected(500).Inc();
      Send(Response::Text(500, "handler sent no response\n"));
    } else if (streaming_ && !ended_) {
      End();
    }
    if (streaming_ && broken_) keep_alive_ = false;
  }

  const Server::Options& options_;
  Connection& conn_;
  Stream& stream_;
  std::function<const Handler*(const std::string&)> route_;
  SetPhase set_phase_;
  unsigned version_ = 11;
  bool head_ = false;
  bool keep_alive_ = true;
  bool responded_ = false;
  bool streaming_ = false;
  bool ended_ = false;
  bool broken_ = false;
};

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kWakeId = 1;
constexpr auto kSweepInterval = std::chrono::milliseconds(100);

}  // namespace

void Server::Impl::SetPhase(Connection& c, Phase phase, std::chrono::milliseconds limit) {
  auto now = Clock::now();
  std::lock_guard lock(mu);
  c.phase = phase;
  c.since = now;
  c.deadline = limit == std::chrono::milliseconds::max() ? Clock::time_point::max() : now + limit;
}

void Server::Impl::Loop() {
  epoll_event events[256];
  auto last_sweep = Clock::now();
  while (!stopping) {
    int n = epoll_wait(epoll_fd, events, 256, static_cast<int>(kSweepInterval.count()));
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kListenerId) {
        AcceptAll();
      } else if (id == kWakeId) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd, &v, sizeof v);
      } else {
        Activate(id);
      }
    }
    auto now = Clock::now();
    if (now - last_sweep >= kSweepInterval) {
      last_sweep = now;
      Sweep();
    }
  }
}

void Server::Impl::AcceptAll() {
  const Options& o = options();
  while (!stopping) {
    tcp::socket s(ioc);
    beast::error_code ec;
    acceptor.accept(s, ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return;
    if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
        ec.value() == ENFILE) {
      // Out of file descriptors: an idle connection makes room, else stop accepting briefly
      // instead of spinning on a listener that stays readable.
      // Only an idle connection frees a descriptor at once (a doomed one frees it when its
      // thread ends), so only those are closed here.
      std::lock_guard lock(mu);
      if (EvictOneLocked(/*slow_too=*/false)) continue;
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, acceptor.native_handle(), nullptr);
      accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
      return;
    }
    if (ec) continue;  // e.g. the peer reset before we accepted
    std::lock_guard lock(mu);
    if (conns.size() - doomed >= o.max_connections && !EvictOneLocked(/*slow_too=*/true)) {
      Closed("limit").Inc();
      continue;  // every connection is inside a handler: the new one closes
    }
    s.set_option(tcp::no_delay(true), ec);
    auto wt = std::chrono::duration_cast<std::chrono::microseconds>(o.write_timeout).count();
    timeval tv{static_cast<time_t>(wt / 1000000), static_cast<suseconds_t>(wt % 1000000)};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto c = std::make_shared<Connection>();
    c->id = next_id++;
    c->fd = s.native_handle();
    auto rep = s.remote_endpoint(ec);
    if (!ec) c->remote = rep.address().to_string() + ":" + std::to_string(rep.port());
    if (ssl) {
      c->ssl = ssl;
      c->tls = std::make_unique<beast::ssl_stream<tcp::socket>>(std::move(s), *ssl);
    } else {
      c->plain.emplace(std::move(s));
    }
    auto now = Clock::now();
    c->since = now;
    c->deadline = now + std::min(o.idle_timeout, o.header_timeout);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = c->id;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) != 0) continue;  // closes
    conns.emplace(c->id, std::move(c));
    OpenConnections().Inc();
  }
}

void Server::Impl::Activate(uint64_t id) {
  std::lock_guard lock(mu);
  auto it = conns.find(id);
  if (it == conns.end() || it->second->phase != Phase::kIdle || stopping) return;
  std::shared_ptr<Connection> c = it->second;
  auto now = Clock::now();
  c->phase = Phase::kHeader;
  c->since = now;
  c->deadline = now + options().header_timeout;
  auto& w = workers.emplace_back();
  try {
    w.thread = std::thread([this, c, &w] {
      Serve(c);
      std::lock_guard l(mu);
      w.done = true;
    });
  } catch (const std::system_error& e) {
    // Out of threads: this connection is dropped, the server goes on.
    workers.pop_back();
    log::Error("HTTP server cannot start a connection thread", {{"err", e.what()}});
    Closed("limit").Inc();
    CloseIdleLocked(c, nullptr);
  }
}

void Server::Impl::Serve(const std::shared_ptr<Connection>& c) {
  auto route = [this](const std::string& path) { return server->Route(path); };
  auto set_phase = [this, c](Phase p, std::chrono::milliseconds limit) { SetPhase(*c, p, limit); };
  Outcome outcome = Outcome::kClose;
  if (c->tls) {
    beast::error_code ec;
    if (!c->handshaken) {
      c->tls->handshake(net::ssl::stream_base::server, ec);
      if (!ec) {
        c->handshaken = true;
        c->peer = ReadPeerCertificate(c->tls->native_handle());
      }
    }
    if (c->handshaken) {
      Session<beast::ssl_stream<tcp::socket>> session(options(), *c, *c->tls, route, set_phase);
      outcome = session.Run();
    }
  } else {
    Session<tcp::socket> session(options(), *c, *c->plain, route, set_phase);
    outcome = session.Run();
  }
  Finish(c, outcome);
}

void Server::Impl::Finish(const std::shared_ptr<Connection>& c, Outcome outcome) {
  {
    std::lock_guard lock(mu);
    if (outcome == Outcome::kIdle && !stopping && !c->doomed) {
      auto now = Clock::now();
      c->phase = Phase::kIdle;
      c->since = now;
      c->deadline = now + options().idle_timeout;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
      ev.data.u64 = c->id;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0) return;
    }
    // Out of the map before the descriptor closes, so nobody shuts down a reused number.
    conns.erase(c->id);
    if (c->doomed) --doomed;
    OpenConnections().Dec();
  }
  beast::error_code ignore;
  c->socket().shutdown(tcp::socket::shutdown_both, ignore);
  c->socket().close(ignore);
}

void Server::Impl::CloseIdleLocked(const std::shared_ptr<Connection>& c, const char* reason) {
  if (reason != nullptr) Closed(reason).Inc();
  conns.erase(c->id);
  if (c->doomed) --doomed;
  OpenConnections().Dec();
  beast::error_code ignore;
  c->socket().close(ignore);  // also leaves the epoll set
}

void Server::Impl::Doom(Connection& c, const char* reason) {
  if (c.doomed) return;
  if (reason != nullptr) Closed(reason).Inc();
  c.doomed = true;
  ++doomed;
  ::shutdown(c.fd, SHUT_RDWR);  // its thread's blocking read or write fails now
}

bool Server::Impl::EvictOneLocked(bool slow_too) {
  std::shared_ptr<Connection> idle, slow;
  for (const auto& [id, c] : conns) {
    if (c->doomed) continue;
    if (c->phase == Phase::kIdle && (!idle || c->since < idle->since)) idle = c;
    if (c->phase == Phase::kHeader && (!slow || c->since < slow->since)) slow = c;
  }
  if (idle) {
    CloseIdleLocked(idle, "evicted");
    return true;
  }
  if (slow && slow_too) {
    Doom(*slow, "evicted");
    return true;
  }
  return false;
}

void Server::Impl::Sweep() {
  auto now = Clock::now();
  {
    std::lock_guard lock(mu);
    std::vector<std::shared_ptr<Connection>> expired;
    for (const auto& [id, c] : conns) {
      if (now >= c->deadline && !c->doomed) expired.push_back(c);
    }
    for (const auto& c : expired) {
      switch (c->phase) {
        case Phase::kIdle:
          CloseIdleLocked(c, "idle_timeout");
          break;
        case Phase::kHeader:
          Doom(*c, "header_timeout");
          break;
        case Phase::kBody:
          Doom(*c, "body_timeout");
          break;
        case Phase::kHandler:
          break;
      }
    }
    if (accept_paused_until != Clock::time_point{} && now >= accept_paused_until) {
      accept_paused_until = {};
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerId;
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, acceptor.native_handle(), &ev);
    }
  }
  ReapWorkers(false);
}

void Server::Impl::ReapWorkers(bool all) {
  std::list<Worker> finished;
  {
    std::lock_guard lock(mu);
    for (auto it = workers.begin(); it != workers.end();) {
      auto next = std::next(it);
      if (all || it->done) finished.splice(finished.end(), workers, it);
      it = next;
    }
  }
  for (auto& w : finished) w.thread.join();
}

Server::Server(Options options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  impl_->server = this;
}

Server::~Server() { Stop(); }

void Server::Handle(std::string path_prefix, Handler handler) {
  prefix_[std::move(path_prefix)] = std::move(handler);
}

void Server::HandleExact(std::string path, Handler handler) {
  exact_[std::move(path)] = std::move(handler);
}

const Handler* Server::Route(const std::string& path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
  const Handler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, h] : prefix_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && prefix.size() >= best_len) {
      best = &h;
      best_len = prefix.size();
    }
  }
  return best;
}

bool Server::tls() const { return !options_.tls_cert_file.empty(); }

void Server::UseTls(std::string cert_file, std::string key_file) {
  options_.tls_cert_file = std::move(cert_file);
  options_.tls_key_file = std::move(key_file);
}

namespace {

Result<std::shared_ptr<net::ssl::context>> MakeTlsContext(const Server::Options& o) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                   net::ssl::context::no_tlsv1_1);
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (!ec) ctx->use_private_key_file(o.tls_key_file, net::ssl::context::pem, ec);
  // A certificate and key that do not belong together would fail every handshake.
  if (!ec && SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::InvalidArgument("TLS setup: " + o.tls_key_file + " is not the key of " +
                                   o.tls_cert_file);
  }
  if (!ec && !o.tls_client_ca_file.empty()) {
    ctx->load_verify_file(o.tls_client_ca_file, ec);
    // Tells clients which CAs we accept, so one holding several certificates picks right.
    if (!ec) {
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_client_ca_file.c_str()))
        SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
    ctx->set_verify_mode(o.tls_client_cert_optional
                             ? net::ssl::verify_peer
                             : net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
  }
  if (ec) return Status::InvalidArgument("TLS setup: " + ec.message());
  return ctx;
}

}  // namespace

Status Server::ReloadTls() {
  if (!tls()) return Status::FailedPrecondition("the server does not serve TLS");
  auto ctx = MakeTlsContext(options_);
  if (!ctx.ok()) return ctx.status();
  std::lock_guard lock(impl_->mu);
  impl_->ssl = std::move(*ctx);
  return Status::OK();
}

std::string Server::address() const { return "127.0.0.1:" + std::to_string(port_.load()); }

Status Server::Start() {
  std::string host;
  int port = 0;
  SHARDWISE_RETURN_IF_ERROR(ParseHostPort(options_.listen_address, &host, &port));
  if (tls()) {
    auto ctx = MakeTlsContext(options_);
    if (!ctx.ok()) return ctx.status();
    impl_->ssl = std::move(*ctx);
  }
  beast::error_code ec;
  net::ip::address addr =
      host.empty() ? net::ip::address(net::ip::address_v6::any()) : net::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen address \"" + host + "\": " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec && addr.is_v6()) acc.set_option(net::ip::v6_only(false), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) acc.non_blocking(true, ec);
  if (ec) {
    return Status::IOError("listen on " + options_.listen_address + ": " + ec.message());
  }
  port_ = acc.local_endpoint().port();

  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) {
    return Status::IOError(std::string("epoll setup: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, acc.native_handle(), &ev);
  ev.data.u64 = kWakeId;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev);
  impl_->loop_thread = std::thread([this] { impl_->Loop(); });
  return Status::OK();
}

void Server::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->wake_fd >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(impl_->wake_fd, &one, sizeof one);
  }
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
  {
    std::lock_guard lock(impl_->mu);
    std::vector<std::shared_ptr<Connection>> idle;
    for (const auto& [id, c] : impl_->conns) {
      if (c->phase == Phase::kIdle) {
        idle.push_back(c);
      } else {
        impl_->Doom(*c, nullptr);
      }
    }
    for (const auto& c : idle) impl_->CloseIdleLocked(c, nullptr);
  }
  impl_->ReapWorkers(/*all=*/true);
  if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
  impl_->epoll_fd = impl_->wake_fd = -1;
}

}  // namespace shardwise::http
