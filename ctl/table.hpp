// Output for people: aligned columns, or "key: value" lines for one record.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace authnode::ctl {

using row = std::vector<std::string>;

/// Columns padded to their widest cell, a header line first; the last
/// column is not padded.
void print_table(std::ostream& out, const row& header,
                 const std::vector<row>& rows);

/// "key:  value" lines, keys aligned.
void print_record(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& kv);

/// A JSON value as a person reads it: strings bare, null as "-".
std::string cell(const nlohmann::json& value);

} // namespace authnode::ctl
