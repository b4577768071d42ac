#include "net/half_close_stream.hpp"

#include <cerrno>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <sys/socket.h>
#include <sys/types.h>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/make_counted.hpp>
#include <caf/policy/tcp.hpp>

#include "actors/interfaces.hpp"
#include "core/error_code.hpp"

namespace authnode {

namespace {

namespace net = caf::io::network;

class half_close_scribe;

/// CAF's TCP policy, except for recv() == 0. CAF's reports it as a failure,
/// and the stream then calls manager::io_failure, which is not virtual and
/// detaches the scribe from its broker. This one tells its scribe instead
/// and reports "nothing read", which ends the stream's read loop and leaves
/// the scribe attached.
struct half_close_tcp {
  explicit half_close_tcp(half_close_scribe* owner) : owner_(owner) {}

  net::rw_state read_some(size_t& result, net::native_socket fd, void* buf,
                          size_t len);

  static net::rw_state write_some(size_t& result, net::native_socket fd,
                                  const void* buf, size_t len) {
    return caf::policy::tcp::write_some(result, fd, buf, len);
  }

  static bool try_accept(net::native_socket& result, net::native_socket fd) {
    return caf::policy::tcp::try_accept(result, fd);
  }

  static constexpr bool must_read_more(net::native_socket, size_t) {
    return false;
  }

private:
  half_close_scribe* owner_;
};

/// CAF's stream, with a flush that sends at once when it can. CAF's flush
/// only asks the event loop to watch the socket for writing: the send
/// happens in the loop's next turn, and costs two epoll_ctl calls besides
/// (on, and off once sent). A reply of a few hundred bytes to a socket with
/// room in its buffer goes out with one send() here. What does not (the
/// socket is full, a short send, an error) is left to CAF's way, which
/// waits for the socket and reports failures as it always does. Only while
/// CAF is not sending already: bytes never overtake earlier ones.
class direct_stream final : public net::stream_impl<half_close_tcp> {
public:
  using net::stream_impl<half_close_tcp>::stream_impl;

  void flush_now(const manager_ptr& mgr) {
    auto& buf = wr_buf();
    if (!buf.empty() && !state_.writing) {
      auto sent = ::send(fd(), buf.data(), buf.size(), net::no_sigpipe_io_flag);
      if (sent > 0) {
        buf.erase(buf.begin(), buf.begin() + sent);
        hand_back_to_caf(buf);
      }
    }
    flush(mgr); // nothing left: nothing to do
  }

private:
  /// The sanitizer build tells ASan which part of a vector is in use
  /// (_GLIBCXX_SANITIZE_VECTOR), and the erase above marked the freed tail
  /// unused. CAF, which is not instrumented, appends the next reply into
  /// that tail without saying so, which ASan would report as a container
  /// overflow. The whole capacity is CAF's to write again.
  static void hand_back_to_caf(std::vector<char>& buf) {
#if defined(__SANITIZE_ADDRESS__) && defined(_GLIBCXX_SANITIZE_VECTOR)
    auto* begin = buf.data();
    if (begin != nullptr)
      __sanitizer_annotate_contiguous_container(
        begin, begin + buf.capacity(), begin + buf.size(),
        begin + buf.capacity());
#else
    (void) buf;
#endif
  }
};

/// A scribe like CAF's scribe_impl, on a stream with half_close_tcp. On the
/// peer's FIN it hands its broker `end_of_input_atom` and stays attached:
/// writes, flush and close work as before. Any other failure detaches it
/// the way CAF's does (connection_closed_msg).
class half_close_scribe final : public caf::io::scribe {
public:
  half_close_scribe(net::default_multiplexer& mpx, net::native_socket fd)
    : caf::io::scribe(net::conn_hdl_from_socket(fd)), stream_(mpx, fd, this) {
  }

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.start(this);
    }
  }

  void ack_writes(bool enable) override {
    stream_.ack_writes(enable);
  }

  std::vector<char>& wr_buf() override {
    return stream_.wr_buf();
  }

  std::vector<char>& rd_buf() override {
    return stream_.rd_buf();
  }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override {
    stream_.flush_now(this);
  }

  std::string addr() const override {
    auto x = net::remote_addr_of_fd(stream_.fd());
    return x ? std::move(*x) : std::string{};
  }

  uint16_t port() const override {
    auto x = net::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override {
    // After the FIN there is nothing left to read: a trigger() from the
    // broker would only read the FIN again.
    if (!eof_)
      stream_.activate(this);
  }

  void remove_from_loop() override {
    stream_.passivate();
  }

  /// The peer's FIN was read: stop reading for good, tell the broker.
  void end_of_input() {
    if (eof_)
      return;
    eof_ = true;
    stream_.passivate(); // takes effect when the loop's turn ends
    if (detached())
      return; // the broker closed it meanwhile (see scribe::consume)
    // Keep the broker alive while it handles the message (it may quit).
    caf::strong_actor_ptr guard{parent()->ctrl()};
    auto msg = caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                         end_of_input_atom::value);
    invoke_mailbox_element_impl(&stream_.backend(), *msg);
  }

private:
  bool eof_ = false;
  bool launched_ = false;
  direct_stream stream_;
};

net::rw_state half_close_tcp::read_some(size_t& result, net::native_socket fd,
                                        void* buf, size_t len) {
  result = 0;
  auto got = ::recv(fd, buf, len, net::no_sigpipe_io_flag);
  if (got > 0) {
    result = static_cast<size_t>(got);
    return net::rw_state::success;
  }
  if (got == 0) {
    owner_->end_of_input();
    return net::rw_state::success; // with result 0: stop this read loop
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return net::rw_state::success; // nothing to read right now
  return net::rw_state::failure;   // a reset or another error: CAF's close
}

/// CAF's doorman, except that it makes half_close_scribes.
class half_close_doorman final : public net::doorman_impl {
public:
  using net::doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached())
      return false; // see CAF's doorman_impl: closed meanwhile
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    net::keepalive(fd, true); // as CAF's default_multiplexer::new_scribe
    // Replies are small and each is complete: Nagle's wait for an ACK
    // would only hold one back behind the one before (as Redis does).
    net::tcp_nodelay(fd, true);
    caf::io::scribe_ptr scribe = caf::make_counted<half_close_scribe>(mpx, fd);
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return caf::io::doorman::new_connection(&mpx, hdl);
  }
};

} // namespace

caf::expected<std::pair<caf::io::accept_handle, uint16_t>>
open_line_doorman(caf::io::abstract_broker* self, const std::string& host,
                  uint16_t port, const char* what) {
  auto fail = [&](const caf::error& err) {
    return caf::make_error(ec::unavailable,
                           std::string{"cannot "} + what + " on " + host + ":"
                             + std::to_string(port) + ": "
                             + self->system().render(err));
  };
  auto* mpx = dynamic_cast<net::default_multiplexer*>(&self->backend());
  if (mpx == nullptr) {
    auto bound = self->add_tcp_doorman(port, host.c_str(), true);
    if (!bound)
      return fail(bound.error());
    return bound;
  }
  auto fd = net::new_tcp_acceptor_impl(port, host.c_str(), true);
  if (!fd)
    return fail(fd.error());
  auto bound_port = net::local_port_of_fd(*fd);
  if (!bound_port) {
    net::close_socket(*fd);
    return fail(bound_port.error());
  }
  auto hdl = net::accept_hdl_from_socket(*fd);
  self->add_doorman(caf::make_counted<half_close_doorman>(*mpx, *fd));
  return std::make_pair(hdl, *bound_port);
}

} // namespace authnode
