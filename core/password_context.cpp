#include "core/password_context.hpp"

#include <algorithm>

#include "core/account_rules.hpp"

namespace authnode {

namespace {

bool is_ascii_letter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Letters and other non-ASCII bytes count; ASCII digits, punctuation,
/// white space and control bytes do not.
bool is_letter(unsigned char c) {
  return is_ascii_letter(c) || c >= 0x80;
}

std::string letters_of(std::string_view s) {
  std::string out;
  for (unsigned char c : s)
    if (is_letter(c))
      out += is_ascii_letter(c) ? static_cast<char>(c | 0x20)
                                : static_cast<char>(c);
  return out;
}

void add_word(std::vector<std::string>& words, std::string_view raw) {
  auto word = letters_of(raw);
  if (word.size() >= min_context_word
      && std::find(words.begin(), words.end(), word) == words.end())
    words.push_back(std::move(word));
}

/// Adds `s` whole and each of its parts between `marks`.
void add_with_parts(std::vector<std::string>& words, std::string_view s,
                    std::string_view marks) {
  add_word(words, s);
  size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find_first_of(marks, start);
    if (end == std::string_view::npos)
      end = s.size();
    add_word(words, s.substr(start, end - start));
    start = end + 1;
  }
}

} // namespace

std::vector<std::string> context_words(std::string_view email,
                                       std::string_view name,
                                       const std::vector<std::string>& site_words) {
  std::vector<std::string> words;
  add_with_parts(words, email.substr(0, email.find('@')), "._-+");
  add_with_parts(words, name, " \t._-+");
  for (auto& w : site_words)
    add_word(words, w);
  return words;
}

bool made_of_context(std::string_view password,
                     const std::vector<std::string>& words) {
  auto rest = letters_of(password);
  if (rest.empty() || words.empty())
    return false;
  // Word break: can[i] says the first i letters are a sequence of words.
  std::vector<bool> can(rest.size() + 1, false);
  can[0] = true;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (!can[i])
      continue;
    for (auto& w : words)
      if (rest.compare(i, w.size(), w) == 0)
        can[i + w.size()] = true;
  }
  return can[rest.size()];
}

std::vector<std::string> split_word_list(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string_view::npos)
      end = list.size();
    auto item = trim_blanks(list.substr(start, end - start));
    if (!item.empty())
      out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

} // namespace authnode
