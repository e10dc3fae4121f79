#include "common/http/server.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <list>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log/log.h"

namespace shardwise::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

Handler Simple(SimpleHandler fn) {
  return [fn = std::move(fn)](const Request& req, ResponseWriter& w) { w.Send(fn(req)); };
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

// One HTTP connection, served on its own thread. Templated on plain TCP or TLS.
template <class Stream>
class Session final : public ResponseWriter {
 public:
  Session(Stream& stream, int fd, const Server::Options& options,
          std::function<const Handler*(const std::string&)> route, std::string remote,
          PeerCertificate peer = {})
      : stream_(stream),
        fd_(fd),
        options_(options),
        route_(std::move(route)),
        remote_(std::move(remote)),
        peer_(std::move(peer)) {}

  void Run() {
    beast::flat_buffer buffer;
    while (!broken_) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options_.max_body_bytes);
      parser.header_limit(64 * 1024);
      beast::error_code ec;
      bhttp::read_header(stream_, buffer, parser, ec);
      if (ec == bhttp::error::body_limit) {  // Content-Length already over the limit
        keep_alive_ = false;
        Send(Response::Text(413, "request body too large\n"));
        return;
      }
      if (ec) return;
      auto& hdr = parser.get();
      version_ = hdr.version();
      if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
        // curl sends Expect for larger bodies and would otherwise wait a second for us.
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version_};
        bhttp::write(stream_, cont, ec);
        if (ec) return;
      }
      bhttp::read(stream_, buffer, parser, ec);
      if (ec == bhttp::error::body_limit) {
        keep_alive_ = false;
        Send(Response::Text(413, "request body too large\n"));
        return;
      }
      if (ec) return;
      Serve(parser.release());
      if (!keep_alive_) return;
    }
  }

  void Send(Response r) override {
    if (responded_) return;
    responded_ = true;
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version_};
    res.set(bhttp::field::server, "shardwise");
    for (auto& [k, v] : r.headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    res.body() = std::move(r.body);
    res.prepare_payload();
    beast::error_code ec;
    bhttp::write(stream_, res, ec);
    if (ec) broken_ = true;
  }

  bool BeginStream(int status, const Headers& headers) override {
    if (responded_) return !broken_;
    responded_ = streaming_ = true;
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    res.set(bhttp::field::server, "shardwise");
    for (const auto& [k, v] : headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(stream_, sr, ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  bool Write(std::string_view chunk) override {
    if (broken_ || !streaming_ || chunk.empty()) return !broken_;
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk(net::const_buffer(chunk.data(), chunk.size())), ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  void End() override {
    if (!streaming_ || ended_) return;
    ended_ = true;
    if (broken_) return;
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk_last(), ec);
    if (ec) broken_ = true;
  }

  bool ClientGone() override {
    if (broken_) return true;
    pollfd p{fd_, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) broken_ = true;
    return broken_;
  }

 private:
  void Serve(bhttp::request<bhttp::string_body> req) {
    responded_ = streaming_ = ended_ = false;
    keep_alive_ = req.keep_alive();
    Request r;
    r.method = std::string(req.method_string());
    std::string_view target = req.target();
    size_t q = target.find('?');
    r.path = PercentDecode(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    for (const auto& f : req)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(req.body());
    r.remote_address = remote_;
    r.tls = std::is_same_v<Stream, beast::ssl_stream<tcp::socket>>;
    r.peer_certificate = peer_;
    const Handler* h = route_(r.path);
    if (h == nullptr) {
      Send(Response::Text(404, "404 page not found\n"));
      return;
    }
    (*h)(r, *this);
    if (!responded_) {
      Send(Response::Text(500, "handler sent no response\n"));
    } else if (streaming_ && !ended_) {
      End();
    }
    if (streaming_ && broken_) keep_alive_ = false;
  }

  Stream& stream_;
  int fd_;
  const Server::Options& options_;
  std::function<const Handler*(const std::string&)> route_;
  std::string remote_;
  PeerCertificate peer_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool responded_ = false;
  bool streaming_ = false;
  bool ended_ = false;
  bool broken_ = false;
};

}  // namespace

struct Server::Impl {
  net::io_context ioc;
  std::unique_ptr<net::ssl::context> ssl;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::mutex mu;
  struct Conn {
    int fd;
    std::thread thread;
    bool done = false;
  };
  std::list<Conn> conns;
  std::atomic<bool> stopping{false};

  void ReapLocked() {
    for (auto it = conns.begin(); it != conns.end();) {
      if (it->done) {
        it->thread.join();
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
  }
};

Server::Server(Options options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {}

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

bool Server::tls() const { return impl_->ssl != nullptr; }

std::string Server::address() const { return "127.0.0.1:" + std::to_string(port_.load()); }

Status Server::Start() {
  std::string host;
  int port = 0;
  SHARDWISE_RETURN_IF_ERROR(ParseHostPort(options_.listen_address, &host, &port));
  if (!options_.tls_cert_file.empty()) {
    impl_->ssl = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    beast::error_code ec;
    impl_->ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                            net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                            net::ssl::context::no_tlsv1_1);
    impl_->ssl->use_certificate_chain_file(options_.tls_cert_file, ec);
    if (!ec) impl_->ssl->use_private_key_file(options_.tls_key_file, net::ssl::context::pem, ec);
    if (!ec && !options_.tls_client_ca_file.empty()) {
      impl_->ssl->load_verify_file(options_.tls_client_ca_file, ec);
      // Tells clients which CAs we accept, so one holding several certificates picks right.
      if (!ec) {
        if (STACK_OF(X509_NAME)* names =
                SSL_load_client_CA_file(options_.tls_client_ca_file.c_str()))
          SSL_CTX_set_client_CA_list(impl_->ssl->native_handle(), names);
      }
      impl_->ssl->set_verify_mode(options_.tls_client_cert_optional
                                      ? net::ssl::verify_peer
                                      : net::ssl::verify_peer |
                                            net::ssl::verify_fail_if_no_peer_cert);
    }
    if (ec) return Status::InvalidArgument("TLS setup: " + ec.message());
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
  if (ec) {
    return Status::IOError("listen on " + options_.listen_address + ": " + ec.message());
  }
  port_ = acc.local_endpoint().port();

  auto route = [this](const std::string& path) { return Route(path); };
  impl_->accept_thread = std::thread([this, route] {
    while (!impl_->stopping) {
      tcp::socket socket(impl_->ioc);
      beast::error_code aec;
      impl_->acceptor.accept(socket, aec);
      if (aec) {
        if (impl_->stopping) return;
        continue;
      }
      std::lock_guard lock(impl_->mu);
      impl_->ReapLocked();
      if (impl_->conns.size() >= options_.max_connections) continue;  // socket closes
      socket.set_option(tcp::no_delay(true), aec);
      timeval tv{options_.idle_timeout_seconds, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      int fd = socket.native_handle();
      auto& conn = impl_->conns.emplace_back(Impl::Conn{fd, {}, false});
      conn.thread = std::thread([this, route, &conn, s = std::move(socket)]() mutable {
        std::string remote;
        beast::error_code rec;
        auto rep = s.remote_endpoint(rec);
        if (!rec) remote = rep.address().to_string() + ":" + std::to_string(rep.port());
        if (impl_->ssl) {
          beast::ssl_stream<tcp::socket> tls(std::move(s), *impl_->ssl);
          beast::error_code hec;
          tls.handshake(net::ssl::stream_base::server, hec);
          if (!hec) {
            Session<beast::ssl_stream<tcp::socket>> session(
                tls, conn.fd, options_, route, remote, ReadPeerCertificate(tls.native_handle()));
            session.Run();
          }
          beast::error_code ignore;
          tls.next_layer().shutdown(tcp::socket::shutdown_both, ignore);
        } else {
          Session<tcp::socket> session(s, conn.fd, options_, route, remote);
          session.Run();
          beast::error_code ignore;
          s.shutdown(tcp::socket::shutdown_both, ignore);
        }
        std::lock_guard l(impl_->mu);
        conn.done = true;
      });
    }
  });
  return Status::OK();
}

void Server::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->acceptor.is_open()) {
    ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  }
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
  std::list<Impl::Conn> conns;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->conns) {
      if (!c.done) ::shutdown(c.fd, SHUT_RDWR);
    }
    conns.swap(impl_->conns);
  }
  for (auto& c : conns) c.thread.join();
}

}  // namespace shardwise::http
