// Breached-password corpora the tests make: the SHA-1 of words of their own
// ("breached-word-<i>"), each with a count, in HIBP's text format
// (`<40 hex>:<count>`, ordered by hash). Shared by the index's own tests
// (tests/breached_index_test.cpp) and the node's (tests/e2e_breached_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/breached_index.hpp"

namespace authnode::test {

/// The i-th word of every test corpus.
std::string corpus_word(size_t i);

/// Its count: 1 to 1000 (i % 1000 + 1).
uint32_t corpus_count(size_t i);

/// The digest in hex, upper case as HIBP writes it unless `upper` is false.
std::string sha1_hex(const sha1_digest& d, bool upper = true);

/// "<HEX>:<count>" lines of words [0, n), ordered by hash as HIBP ships
/// them unless `shuffle`.
std::vector<std::string> corpus_lines(size_t n, bool shuffle = false);

} // namespace authnode::test
