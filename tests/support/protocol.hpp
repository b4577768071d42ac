// The public protocol as the tests speak it: the one answer to "did this
// reply succeed?" and to "with what code did it fail?", and the requests of
// the public ops, written once. Tests ask these instead of reading "ok" and
// "error" themselves: copies of such helpers had drifted, and two of them
// took a reply without "ok" for a success, so a test could pass while the
// node misbehaved. Here only "ok": true is a success, and only "ok": false
// with a string error.code is a failure.
//
// error_code() does not assert: it is also called on threads of a test's
// own (pipelined load), where Catch assertions are not allowed, and in
// tallies. Instead, for a reply that is not a well-formed failure (a
// success, a reply without "ok" or without error.code) it returns
// "<not a failure: REPLY>", which no error code equals: a check that
// expects a code fails and shows the reply.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/line_client.hpp"

namespace authnode::test {

// -- reading replies ---------------------------------------------------------

/// True only for a reply with "ok": true (the boolean).
bool succeeded(const json& reply);

/// True only for a reply with "ok": false and a string error.code.
bool failed(const json& reply);

/// The error.code of a failed() reply; for any other reply (a success
/// included) "<not a failure: REPLY>", REPLY cut to 200 bytes.
std::string error_code(const json& reply);

/// What a tally counts: "ok" for a succeeded() reply, else error_code().
std::string outcome(const json& reply);

/// The error.retry_after_ms of a failed() reply, or -1 if it has none.
int64_t retry_after_ms(const json& reply);

// -- the public ops
// ------------------------------------------------------------

/// The password the helpers below use when a test names none.
extern const std::string default_password;

/// The register request, as a client writes it (no id).
json register_request(const std::string& email,
                      const std::string& password = default_password,
                      const std::string& name = "Ann");

/// The login request, as a client writes it (no id); `device_token` is sent
/// if not empty.
json login_request(const std::string& email,
                   const std::string& password = default_password,
                   const std::string& device_token = {});

/// `request` as the line a client writes: its JSON and a newline. For
/// requests written together in one write (pipelined bursts).
std::string line_of(const json& request);

/// `request` with its "id" set to `id`: for requests sent ahead of their
/// replies and read back by id.
json with_id(json id, json request);

/// Each sends its request on `c` and returns the reply.
json register_user(line_client& c, const std::string& email,
                   const std::string& password = default_password,
                   const std::string& name = "Ann");
json login(line_client& c, const std::string& email,
           const std::string& password = default_password,
           const std::string& device_token = {});
json whoami(line_client& c, const std::string& token);
json logout(line_client& c, const std::string& token);
json change_password(line_client& c, const std::string& token,
                     const std::string& old_password,
                     const std::string& new_password);

/// The "stats" object of a stats reply on `c`, or the test fails. A counter
/// it lacks reads as null, which compares less than any number: compare a
/// counter with < or > as get<int64_t>(), which throws on null.
json stats_of(line_client& c);

/// As above, on a connection of its own to 127.0.0.1:`port`.
json register_user(uint16_t port, const std::string& email,
                   const std::string& password = default_password,
                   const std::string& name = "Ann");
json login(uint16_t port, const std::string& email,
           const std::string& password = default_password);
json stats_of(uint16_t port);

/// The token of a login that must succeed (else the test fails).
std::string session_token(line_client& c, const std::string& email,
                          const std::string& password = default_password);

/// A guessing burst: `per_node` wrong passwords for `email` written at once
/// to each of `ports` (a connection each, from 127.0.0.1), every reply read
/// (10 s at most each). Returns how many replies had each outcome().
std::map<std::string, int> guess_burst(const std::vector<uint16_t>& ports,
                                       const std::string& email, int per_node);

/// hash_verifications_total summed over the nodes at `ports`.
int64_t hash_verifications(const std::vector<uint16_t>& ports);

} // namespace authnode::test
