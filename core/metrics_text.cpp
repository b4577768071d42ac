#include "core/metrics_text.hpp"

#include <array>
#include <cstdio>

#include "actors/interfaces.hpp"

namespace authnode {

std::string_view op_label_name(op_label op) {
  static constexpr std::array<std::string_view, op_label_count> names{
    "ping",
    "register",
    "login",
    "whoami",
    "logout",
    "change_password",
    "stats",
    "recovery_start",
    "recovery_finish",
    "verify_email_start",
    "verify_email_finish",
    "change_email_start",
    "change_email_finish",
    "totp_setup",
    "totp_enable",
    "totp_disable",
    "recovery_codes_renew",
    "login_second_factor",
    "passkey_register_begin",
    "passkey_register_finish",
    "passkey_login_begin",
    "passkey_login_finish",
    "passkeys_list",
    "passkey_delete",
    "invalid",
  };
  return names[static_cast<size_t>(op)];
}

namespace {

/// Login outcomes printed even while zero.
constexpr std::array<ec, 6> common_login_outcomes{
  ec::none,          ec::invalid_credentials, ec::rate_limited,
  ec::busy,          ec::unavailable,         ec::second_factor_required};

class writer {
public:
  explicit writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type,
              std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// `labels` is written as is, e.g. `op="login",result="ok"`; empty: none.
  void sample(std::string_view name, std::string_view labels, int64_t value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
  }

  void seconds_sample(std::string_view name, int64_t ns) {
    // Integer arithmetic: exact, and no locale in the way.
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%lld.%09lld",
                  static_cast<long long>(ns / 1'000'000'000),
                  static_cast<long long>(ns % 1'000'000'000));
    out_ += name;
    out_ += ' ';
    out_ += buf;
    out_ += '\n';
  }

  void scalar(std::string_view name, std::string_view type,
              std::string_view help, int64_t value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  void histo(std::string_view name, std::string_view help, const histogram& h) {
    family(name, "histogram", help);
    std::string bucket_name{name};
    bucket_name += "_bucket";
    int64_t cumulative = 0;
    for (size_t i = 0; i < histogram::bucket_count; ++i) {
      cumulative += h.bucket(i);
      std::string le = "le=\"";
      le += i < histogram_bounds.size() ? histogram_bounds[i].le : "+Inf";
      le += '"';
      sample(bucket_name, le, cumulative);
    }
    // _count is the +Inf bucket, so the two always agree within a scrape.
    seconds_sample(std::string{name} + "_sum", h.sum_ns());
    sample(std::string{name} + "_count", {}, cumulative);
  }

private:
  std::string& out_;
};

/// A scalar row of core/counter_table.hpp, as /metrics shows it.
struct scalar_row {
  std::string_view type; // "counter", "gauge" or "none"
  std::string_view name;
  std::string_view help;
  int64_t stats_snapshot::*value;
};

constexpr scalar_row scalar_rows[] = {
#define AUTHNODE_SCALAR_ROW(field, source, type, name, help)                   \
  {#type, name, help, &stats_snapshot::field},
  AUTHNODE_STATS(AUTHNODE_SCALAR_ROW)
#undef AUTHNODE_SCALAR_ROW
};

/// The rows of one type, in the table's order.
void scalars(writer& w, const stats_snapshot& s, std::string_view type) {
  for (auto& row : scalar_rows)
    if (row.type == type)
      w.scalar(row.name, type, row.help, s.*row.value);
}

std::string result_name(size_t result) {
  auto code = static_cast<ec>(result);
  return code == ec::none ? "ok" : std::string{wire_name(code)};
}

void requests(writer& w, const node_counters& c) {
  constexpr auto name = "authnode_requests_total";
  w.family(name, "counter",
           "Requests answered, by op and result (ok or the error code sent); "
           "op=\"invalid\" is a line that did not decode to a request.");
  for (size_t op = 0; op < op_label_count; ++op) {
    auto label = op_label_name(static_cast<op_label>(op));
    for (size_t r = 0; r < result_slots; ++r) {
      auto value = c.requests.get(static_cast<op_label>(op), r);
      bool always = r == 0 && static_cast<op_label>(op) != op_label::invalid;
      if (value == 0 && !always)
        continue;
      std::string labels = "op=\"";
      labels += label;
      labels += "\",result=\"";
      labels += result_name(r);
      labels += '"';
      w.sample(name, labels, value);
    }
  }
}

void login_outcomes(writer& w, const node_counters& c) {
  constexpr auto name = "authnode_login_outcomes_total";
  w.family(name, "counter",
           "Logins answered, by outcome (ok or the error code sent); the "
           "login row of authnode_requests_total.");
  for (size_t r = 0; r < result_slots; ++r) {
    auto value = c.requests.get(op_label::login, r);
    bool always = false;
    for (auto code : common_login_outcomes)
      always = always || static_cast<size_t>(code) == r;
    if (value == 0 && !always)
      continue;
    w.sample(name, "outcome=\"" + result_name(r) + "\"", value);
  }
}

} // namespace

std::string metrics_text(const node_counters& c,
                         std::chrono::steady_clock::time_point now) {
  std::string out;
  out.reserve(8192);
  writer w{out};
  auto s = take_stats(c, now);
  requests(w, c);
  login_outcomes(w, c);
  scalars(w, s, "counter");
  w.histo("authnode_login_duration_seconds",
          "Login requests from arrival to the node's decision, without the "
          "deliberate failure-delay hold (throttle holds included).",
          c.login_duration);
  w.histo("authnode_hash_duration_seconds",
          "One argon2id hash or verification on a hasher thread, without "
          "the wait in the hash queue.",
          c.hash_duration);
  scalars(w, s, "gauge");
  return out;
}

} // namespace authnode
