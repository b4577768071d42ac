// Context words (NIST SP 800-63B 5.1.1.2): a new password made of the
// account's own email or name, or of the site's name, is the first thing a
// targeted guesser tries, and no breach corpus lists it. No I/O: the words
// come with the request (email, name) and the options
// (--password-context-words).
//
// The rule, case-insensitively (ASCII letters; other bytes are compared as
// they are): take the password's letters, dropping digits, punctuation and
// white space; if what is left is one context word, or several of them
// one after another (`annexample` with the words `ann` and `example`), the
// password is refused. So `Ann1990!`, `!!example2024`, `ann.lee` and
// `Example-Ann-1` are refused, while `Ann1990!x` is not (the `x` is no
// word), nor a password with no letters at all (that is the breach list's
// business). Words shorter than 3 letters are not context words: `jo` would
// refuse every password made of j, o and digits, which is no guess an
// attacker ranks first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace authnode {

/// Shortest context word, in letters.
constexpr size_t min_context_word = 3;

/// The context words of an account: the email's local part, whole and split
/// on `.`, `_`, `-` and `+`; the name's words (split on white space and
/// the same marks); and `site_words`. Lowercased, letters only, none
/// shorter than min_context_word, no repeats.
std::vector<std::string> context_words(std::string_view email,
                                       std::string_view name,
                                       const std::vector<std::string>& site_words);

/// Whether `password` is made only of `words` (as context_words makes them)
/// plus digits, punctuation and white space; see the top of this file.
bool made_of_context(std::string_view password,
                     const std::vector<std::string>& words);

/// Splits "a,b,c" into its non-empty trimmed items (--password-context-words).
std::vector<std::string> split_word_list(std::string_view list);

} // namespace authnode
