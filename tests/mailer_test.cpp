// The mailer in a real actor system, against a fake outbox (a small typed
// actor holding the mails in a vector, as the database would in its table)
// and a real SMTP server on loopback (support/smtp_sink). Retry times are
// milliseconds so that backoff can be watched; every wait is bounded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <poll.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/mailer.hpp"
#include "core/counters.hpp"
#include "core/secrets.hpp"
#include "support/smtp_sink.hpp"

using namespace authnode;
using namespace std::chrono_literals;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// What the fake outbox holds and what it was told, shared with the test.
struct outbox_record {
  struct row {
    outgoing_mail mail;
    int64_t due_ms = 0;
    bool handed_out = false;
  };
  struct retry {
    int64_t id;
    int64_t wait_ms; // next_at_ms minus the time the retry was reported
    std::string error;
  };
  std::mutex mtx;
  std::vector<row> rows;
  std::vector<int64_t> sent;
  std::vector<int64_t> dropped;
  std::vector<retry> retries;
  int takes = 0;

  void add(int64_t id, std::string to, int64_t created_at_ms = now_ms()) {
    std::lock_guard<std::mutex> guard{mtx};
    outgoing_mail m;
    m.id = id;
    m.to = std::move(to);
    m.subject = "Mail " + std::to_string(id);
    m.body = "Hello,\n\nthis is mail " + std::to_string(id) + ".\n";
    m.created_at_ms = created_at_ms;
    rows.push_back({m, 0, false});
  }
  template <class F>
  auto with(F f) {
    std::lock_guard<std::mutex> guard{mtx};
    return f(*this);
  }
};

struct fake_outbox_state {
  std::shared_ptr<outbox_record> rec;
  static inline const char* name = "fake_outbox";
};

outbox_actor::behavior_type
fake_outbox(outbox_actor::stateful_pointer<fake_outbox_state> self,
            std::shared_ptr<outbox_record> rec) {
  self->state.rec = rec;
  auto erase = [rec](int64_t id) {
    auto& rows = rec->rows;
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [id](auto& r) {
                                return r.mail.id == id;
                              }),
               rows.end());
  };
  return {
    [rec](outbox_take_atom, int64_t now, int64_t limit) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      ++rec->takes;
      outbox_batch batch;
      batch.pending = static_cast<int64_t>(rec->rows.size());
      for (auto& r : rec->rows) {
        if (r.handed_out)
          continue;
        if (r.due_ms <= now
            && static_cast<int64_t>(batch.mails.size()) < limit) {
          r.handed_out = true;
          batch.mails.push_back(r.mail);
        } else if (batch.next_due_ms == 0 || r.due_ms < batch.next_due_ms) {
          batch.next_due_ms = std::max(r.due_ms, now);
        }
      }
      return batch;
    },
    [rec, erase](outbox_sent_atom, int64_t id) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->sent.push_back(id);
      erase(id);
      return caf::ok_atom::value;
    },
    [rec](outbox_retry_atom, int64_t id, int64_t next_at,
          const std::string& error) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->retries.push_back({id, next_at - now_ms(), error});
      for (auto& r : rec->rows)
        if (r.mail.id == id) {
          r.due_ms = next_at;
          r.handed_out = false;
          ++r.mail.attempts;
        }
      return caf::ok_atom::value;
    },
    [rec, erase](outbox_drop_atom, int64_t id, const std::string&) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->dropped.push_back(id);
      erase(id);
      return caf::ok_atom::value;
    },
  };
}

/// A system with a fake outbox; the mailer is started by start() so that a
/// test can fill the outbox first (mail left from before a restart).
struct mailer_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<outbox_record> rec = std::make_shared<outbox_record>();
  std::shared_ptr<node_counters> counters = std::make_shared<node_counters>();
  test::smtp_sink sink;
  outbox_actor outbox;
  mailer_actor mailer;

  mailer_fixture() {
    REQUIRE(init_sodium());
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    outbox = sys->spawn(fake_outbox, rec);
  }

  mailer_settings settings() const {
    mailer_settings s;
    s.smtp.url = sink.url();
    s.smtp.from = "noreply@auth.example.org";
    s.smtp.timeout = 5s;
    s.retry_first = 40ms;
    s.retry_max = 320ms;
    s.max_age = 1h;
    s.batch = 16;
    return s;
  }

  void start(mailer_settings s) {
    mailer = spawn_mailer(*sys, std::move(s), outbox, counters);
  }
  void start() {
    start(settings());
  }

  /// Waits (at most `limit`) until `pred(record)` holds.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (rec->with(pred))
        return true;
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      poll(nullptr, 0, 5);
    }
  }

  ~mailer_fixture() {
    // The detached mailer must be gone before the system (CAF 0.17).
    caf::scoped_actor self{*sys};
    if (mailer) {
      self->send_exit(mailer, caf::exit_reason::user_shutdown);
      self->wait_for(mailer);
    }
    self->send_exit(outbox, caf::exit_reason::user_shutdown);
    self->wait_for(outbox);
  }
};

} // namespace

TEST_CASE("retry_delay doubles from retry_first up to retry_max", "[mailer]") {
  mailer_settings s;
  s.retry_first = 30s;
  s.retry_max = 1h;
  CHECK(retry_delay(s, 0) == caf::timespan{30s});
  CHECK(retry_delay(s, 1) == caf::timespan{60s});
  CHECK(retry_delay(s, 3) == caf::timespan{240s});
  CHECK(retry_delay(s, 7) == caf::timespan{1h}); // 3840 s, capped
  CHECK(retry_delay(s, 1000000) == caf::timespan{1h});
}

TEST_CASE("mail left in the outbox is delivered once at start and reported "
          "sent",
          "[mailer]") {
  mailer_fixture f;
  f.rec->add(1, "ann@example.org");
  f.start();
  REQUIRE(f.sink.wait_for(1, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 1;
  }));
  auto raw = f.sink.messages().at(0);
  CHECK(test::mail_header(raw, "X-Sink-To") == "ann@example.org");
  CHECK(test::mail_header(raw, "Subject") == "Mail 1");
  CHECK(test::mail_body(raw) == "Hello,\n\nthis is mail 1.\n");
  // Nothing more arrives: not a second copy, not a retry.
  poll(nullptr, 0, 300);
  CHECK(f.sink.messages().size() == 1);
  f.rec->with([](auto& r) {
    CHECK(r.sent == std::vector<int64_t>{1});
    CHECK(r.retries.empty());
    CHECK(r.rows.empty());
    return true;
  });
  CHECK(f.counters->mails_sent_total == 1);
  CHECK(f.counters->mails_failed_total == 0);
  CHECK(f.counters->outbox_depth == 0);
}

TEST_CASE("mail_ready makes the mailer take new mail", "[mailer]") {
  mailer_fixture f;
  f.start();
  REQUIRE(f.wait_until([](auto& r) {
    return r.takes >= 1;
  }));
  f.rec->add(5, "bob@example.org");
  f.rec->add(6, "cy@example.org");
  caf::anon_send(f.mailer, mail_ready_atom::value);
  REQUIRE(f.sink.wait_for(2, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 2;
  }));
  auto got = f.sink.messages();
  CHECK(test::mail_header(got[0], "To") == "bob@example.org");
  CHECK(test::mail_header(got[1], "To") == "cy@example.org");
  CHECK(f.counters->mails_sent_total == 2);
}

TEST_CASE("a relay that refuses: retried with growing waits, then delivered "
          "once",
          "[mailer]") {
  mailer_fixture f;
  f.sink.reject(true);
  f.rec->add(9, "dee@example.org");
  f.start();
  // retry_first 40 ms, doubling, at most 320 ms: 40, 80, 160, 320, 320.
  REQUIRE(f.wait_until([](auto& r) {
    return r.retries.size() >= 5;
  }));
  f.sink.reject(false);
  REQUIRE(f.sink.wait_for(1, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 1;
  }));
  f.rec->with([](auto& r) {
    // The waits asked for, measured when the fake outbox got the report.
    std::vector<int64_t> expected{40, 80, 160, 320, 320};
    for (size_t i = 0; i < expected.size(); ++i) {
      INFO("retry " << i);
      CHECK(r.retries[i].id == 9);
      CHECK(r.retries[i].wait_ms <= expected[i]);
      CHECK(r.retries[i].wait_ms >= expected[i] - 30);
      CHECK(r.retries[i].error.find("451") != std::string::npos);
    }
    CHECK(r.sent == std::vector<int64_t>{9});
    return true;
  });
  poll(nullptr, 0, 400);
  CHECK(f.sink.messages().size() == 1);
  CHECK(f.counters->mails_sent_total == 1);
  CHECK(f.counters->mails_failed_total
        == static_cast<int64_t>(f.rec->with([](auto& r) {
             return r.retries.size();
           })));
}

TEST_CASE("a relay that is gone, then back: delivered later, once",
          "[mailer]") {
  mailer_fixture f;
  auto port = f.sink.port();
  f.sink.stop();
  f.rec->add(3, "eve@example.org");
  f.start();
  REQUIRE(f.wait_until([](auto& r) {
    return r.retries.size() >= 2;
  }));
  test::smtp_sink back(port);
  REQUIRE(back.wait_for(1, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 1;
  }));
  poll(nullptr, 0, 400);
  CHECK(back.messages().size() == 1);
  CHECK(f.counters->mails_sent_total == 1);
  CHECK(f.counters->mails_failed_total >= 2);
}

TEST_CASE("mail older than max_age is dropped and counted, not sent",
          "[mailer]") {
  mailer_fixture f;
  f.rec->add(1, "old@example.org", now_ms() - 2 * 3600 * 1000);
  f.rec->add(2, "new@example.org");
  f.start();
  REQUIRE(f.sink.wait_for(1, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 1 && r.dropped.size() == 1;
  }));
  CHECK(test::mail_header(f.sink.messages().at(0), "To") == "new@example.org");
  f.rec->with([](auto& r) {
    CHECK(r.dropped == std::vector<int64_t>{1});
    CHECK(r.sent == std::vector<int64_t>{2});
    return true;
  });
  CHECK(f.counters->mails_dropped_total == 1);
  CHECK(f.counters->mails_sent_total == 1);
  CHECK(f.counters->outbox_depth == 0);
}

TEST_CASE("a full batch is followed by another take at once", "[mailer]") {
  mailer_fixture f;
  for (int64_t id = 1; id <= 5; ++id)
    f.rec->add(id, "u" + std::to_string(id) + "@example.org");
  auto s = f.settings();
  s.batch = 2;
  f.start(s);
  REQUIRE(f.sink.wait_for(5, 5s));
  REQUIRE(f.wait_until([](auto& r) {
    return r.sent.size() == 5;
  }));
  f.rec->with([](auto& r) {
    CHECK(r.sent == std::vector<int64_t>{1, 2, 3, 4, 5});
    // 2 + 2 + 1: three takes, the last one not full.
    CHECK(r.takes == 3);
    return true;
  });
  CHECK(f.counters->outbox_depth == 0);
}

TEST_CASE("the depth gauge counts mail still waiting", "[mailer]") {
  mailer_fixture f;
  f.sink.reject(true);
  f.rec->add(1, "a@example.org");
  f.rec->add(2, "b@example.org");
  auto s = f.settings();
  s.retry_first = 10s; // no second attempt during the test
  s.retry_max = 10s;
  f.start(s);
  REQUIRE(f.wait_until([](auto& r) {
    return r.retries.size() == 2;
  }));
  // The batch is handled (and the gauge set) before the reports are read.
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (f.counters->outbox_depth != 2
         && std::chrono::steady_clock::now() < deadline)
    poll(nullptr, 0, 5);
  CHECK(f.counters->outbox_depth == 2);
  CHECK(f.counters->mails_failed_total == 2);
  CHECK(f.counters->mails_sent_total == 0);
}

TEST_CASE("a tick with no timer armed is stale and takes nothing", "[mailer]") {
  mailer_fixture f;
  f.start();
  REQUIRE(f.wait_until([](auto& r) {
    return r.takes == 1;
  }));
  // The start take found nothing and armed nothing: a stray tick (one
  // superseded by an earlier timer) must not make the mailer poll.
  caf::anon_send(f.mailer, tick_atom::value);
  caf::anon_send(f.mailer, tick_atom::value);
  poll(nullptr, 0, 200);
  CHECK(f.rec->with([](auto& r) {
    return r.takes;
  }) == 1);
  // mail_ready still does.
  caf::anon_send(f.mailer, mail_ready_atom::value);
  CHECK(f.wait_until([](auto& r) {
    return r.takes == 2;
  }));
}
