#include "operator/kube/testing/cuttable_proxy.h"

#include <array>
#include <future>

namespace shardwise::kube::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct CuttableProxy::Session : std::enable_shared_from_this<Session> {
  explicit Session(asio::io_context& io) : client(io), server(io) {}

  void Start(const tcp::endpoint& target) {
    auto self = shared_from_this();
    server.async_connect(target, [self](boost::system::error_code ec) {
      if (ec) return self->Close();
      self->Pump(self->client, self->server, self->upstream);
      self->Pump(self->server, self->client, self->downstream);
    });
  }

  void Pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
    auto self = shared_from_this();
    from.async_read_some(
        asio::buffer(buffer), [self, &from, &to, &buffer](boost::system::error_code ec, size_t n) {
          if (ec) return self->Close();
          asio::async_write(to, asio::buffer(buffer.data(), n),
                            [self, &from, &to, &buffer](boost::system::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Pump(from, to, buffer);
                            });
        });
  }

  void Close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }

  tcp::socket client, server;
  std::array<char, 16384> upstream{}, downstream{};
};

CuttableProxy::CuttableProxy(int target_port)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      target_(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(target_port)) {
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
}

CuttableProxy::~CuttableProxy() {
  SetRefusing(true);
  Cut();
  io_.stop();
  thread_.join();
}

void CuttableProxy::Accept() {
  auto session = std::make_shared<Session>(io_);
  acceptor_.async_accept(session->client, [this, session](boost::system::error_code ec) {
    if (ec) return;  // closed
    ++accepted_;
    if (refusing_) {
      session->Close();
    } else {
      {
        std::lock_guard lock(mu_);
        sessions_.push_back(session);
      }
      session->Start(target_);
    }
    Accept();
  });
}

void CuttableProxy::Cut() {
  std::vector<std::weak_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    sessions.swap(sessions_);
  }
  // Sockets belong to the io thread: close them there, and wait so that the cut has
  // happened when Cut() returns.
  std::promise<void> done;
  asio::post(io_, [&sessions, &done] {
    for (const auto& weak : sessions) {
      if (auto session = weak.lock()) session->Close();
    }
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace shardwise::kube::testing
