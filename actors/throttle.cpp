#include "actors/throttle.hpp"

#include <sodium.h>

#include <algorithm>
#include <limits>

namespace authnode {

caf::timespan throttle::penalty(uint32_t failures) const {
  if (failures == 0)
    return caf::timespan{0};
  auto doublings = std::min<uint32_t>(failures - 1, 30);
  auto wait = cfg_.failure_delay * (int64_t{1} << doublings);
  return std::min(wait, cfg_.max_penalty);
}

std::string throttle_key_digest(bool account, const std::string& key) {
  std::string text = (account ? "account:" : "source:") + key;
  std::string digest(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()),
                     digest.size(),
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return digest;
}

throttle::key_state& throttle::entry(table& t, const std::string& key,
                                     time_point now) {
  auto& k = t[key];
  if (k.failures > 0 && now - k.last_failure > cfg_.failure_window) {
    k.failures = 0;
    k.recent.fill(0);
  }
  return k;
}

throttle::time_point throttle::ready_at(const key_state& k) const {
  if (k.failures == 0)
    return time_point{};
  return k.last_failure + penalty(k.failures);
}

throttle::verdict throttle::admit(const throttle_keys& keys, time_point now,
                                  bool was_held) {
  auto& s = entry(sources_, keys.source, now);
  auto& a = entry(accounts_, keys.account, now);
  if (was_held) {
    --s.holding;
    --a.holding;
    --s.held_by_source;
    --held_total_;
  }
  auto s_ready = ready_at(s);
  auto a_ready = ready_at(a);
  bool s_blocks = s_ready > now || !slot_free(s);
  bool a_blocks = a_ready > now || !slot_free(a);
  if (!s_blocks && !a_blocks) {
    ++s.verifying;
    ++a.verifying;
    return {decision::go, now};
  }
  auto until
    = std::max({now, s_blocks ? s_ready : now, a_blocks ? a_ready : now});
  // One held attempt per key that holds things up: any more are answered
  // at once, so an attacker's pipelined guesses cost neither hashes nor
  // memory.
  bool already_held = (s_blocks && s.holding > 0)
    || (a_blocks && a.holding > 0);
  if (already_held || held_total_ >= cfg_.max_pending
      || s.held_by_source >= cfg_.max_pending_per_source) {
    // Held up only by verifications in flight: their end is a good guess.
    if (until <= now)
      until = now
        + std::max(cfg_.failure_delay, caf::timespan{std::chrono::seconds(1)});
    return {decision::refuse, until};
  }
  ++s.holding;
  ++a.holding;
  ++s.held_by_source;
  ++held_total_;
  return {decision::wait, until};
}

void throttle::drop_hold(const throttle_keys& keys) {
  auto s = sources_.find(keys.source);
  auto a = accounts_.find(keys.account);
  if (s == sources_.end() || a == accounts_.end() || s->second.holding == 0
      || a->second.holding == 0)
    return; // not held: nothing to give back
  --s->second.holding;
  --a->second.holding;
  if (s->second.held_by_source > 0)
    --s->second.held_by_source;
  if (held_total_ > 0)
    --held_total_;
}

bool throttle::record_failure(key_state& k, uint64_t fingerprint,
                              time_point now) {
  auto repeated = fingerprint != 0
    && std::find(k.recent.begin(), k.recent.end(), fingerprint)
      != k.recent.end();
  k.last_failure = now;
  if (repeated && k.failures > 0)
    return false; // the same wrong password again: same penalty, not higher
  ++k.failures;
  k.recent[k.next_recent++ % k.recent.size()] = fingerprint;
  return true;
}

throttle::counted throttle::finished(const throttle_keys& keys,
                                     attempt_result result,
                                     uint64_t fingerprint, time_point now) {
  auto& s = entry(sources_, keys.source, now);
  auto& a = entry(accounts_, keys.account, now);
  if (s.verifying > 0)
    --s.verifying;
  if (a.verifying > 0)
    --a.verifying;
  counted out;
  switch (result) {
    case attempt_result::success:
      a.failures = 0;
      a.recent.fill(0);
      break;
    case attempt_result::failure:
      out.source = record_failure(s, fingerprint, now);
      out.account = record_failure(a, fingerprint, now);
      break;
    case attempt_result::aborted:
      break;
  }
  return out;
}

void throttle::adopt(bool account, const std::string& key, int64_t failures,
                     time_point last_failure, time_point now, bool exact) {
  bool none = failures <= 0 || now - last_failure > cfg_.failure_window;
  auto& table = account ? accounts_ : sources_;
  if (none) {
    if (auto i = table.find(key); exact && i != table.end())
      i->second.failures = 0;
    return;
  }
  auto& k = entry(table, key, now);
  auto n = static_cast<uint32_t>(
    std::min<int64_t>(failures, std::numeric_limits<uint32_t>::max()));
  k.failures = exact ? n : std::max(k.failures, n);
  k.last_failure = exact ? last_failure
                         : std::max(k.last_failure, last_failure);
}

throttle_status throttle::status(bool account, const std::string& key,
                                 time_point now) const {
  throttle_status out;
  out.key = key;
  auto& t = account ? accounts_ : sources_;
  auto i = t.find(key);
  if (i == t.end())
    return out;
  auto& k = i->second;
  if (k.failures > 0 && now - k.last_failure <= cfg_.failure_window) {
    out.failures = k.failures;
    auto ready = ready_at(k);
    if (ready > now)
      out.penalty_ms
        = std::chrono::duration_cast<std::chrono::milliseconds>(ready - now)
            .count();
  }
  out.held = k.holding;
  out.verifying = k.verifying;
  return out;
}

bool throttle::reset(bool account, const std::string& key, time_point now) {
  auto& t = account ? accounts_ : sources_;
  auto i = t.find(key);
  if (i == t.end())
    return false;
  auto& k = i->second;
  bool had = k.failures > 0 && now - k.last_failure <= cfg_.failure_window;
  k.failures = 0;
  k.recent.fill(0);
  if (!account)
    budgets_.erase(key);
  return had;
}

caf::timespan throttle::spend(const std::string& source, time_point now) {
  using seconds = std::chrono::duration<double>;
  auto per_second = cfg_.register_rate / 60.0;
  auto capacity = static_cast<double>(cfg_.register_rate);
  auto& b = budgets_.try_emplace(source, bucket{capacity, now}).first->second;
  b.tokens = std::min(capacity,
                      b.tokens + seconds(now - b.updated).count() * per_second);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return caf::timespan{0};
  }
  auto wait = seconds((1.0 - b.tokens) / per_second);
  return std::max(caf::timespan{1},
                  std::chrono::duration_cast<caf::timespan>(wait));
}

std::pair<size_t, size_t> throttle::sweep(time_point now) {
  auto sweep_table = [&](table& t) {
    size_t penalized = 0;
    for (auto i = t.begin(); i != t.end();) {
      auto& k = i->second;
      auto remembered = k.failures > 0
        && now - k.last_failure <= cfg_.failure_window;
      if (!remembered && k.verifying == 0 && k.holding == 0
          && k.held_by_source == 0) {
        i = t.erase(i);
        continue;
      }
      if (remembered)
        ++penalized;
      ++i;
    }
    return penalized;
  };
  // A bucket that has refilled completely is the same as no bucket.
  for (auto i = budgets_.begin(); i != budgets_.end();) {
    if (now - i->second.updated >= std::chrono::minutes(1))
      i = budgets_.erase(i);
    else
      ++i;
  }
  auto sources = sweep_table(sources_);
  auto accounts = sweep_table(accounts_);
  return {sources, accounts};
}

} // namespace authnode
