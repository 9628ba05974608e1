// Column layout and status colours for the CLI's tables.
#include "redundancy/cli/table.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace redundancy::cli {
namespace {

// The ANSI colour for a status word, or nullptr for ordinary text.
const char* colour_of(std::string_view word) {
  static constexpr std::string_view green[] = {"healthy", "ok", "succeeded", "online", "inactive"};
  static constexpr std::string_view yellow[] = {"degraded", "starting", "queued", "running", "paused", "warning"};
  static constexpr std::string_view red[] = {"unhealthy", "emergency", "failed",  "interrupted",
                                             "error",     "active",    "critical"};
  static constexpr std::string_view dim[] = {"unknown", "disabled"};
  if (std::find(std::begin(green), std::end(green), word) != std::end(green)) return "\x1b[32m";
  if (std::find(std::begin(yellow), std::end(yellow), word) != std::end(yellow)) return "\x1b[33m";
  if (std::find(std::begin(red), std::end(red), word) != std::end(red)) return "\x1b[31m";
  if (std::find(std::begin(dim), std::end(dim), word) != std::end(dim)) return "\x1b[2m";
  return nullptr;
}

}  // namespace

std::string coloured(std::string_view status, bool colour) {
  const char* code = colour ? colour_of(status) : nullptr;
  if (!code) return std::string(status);
  return std::string(code) + std::string(status) + "\x1b[0m";
}

void print_table(std::ostream& os, const table& t, bool colour) {
  std::vector<std::size_t> widths(t.header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    if (row.size() > widths.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(t.header);
  for (const auto& row : t.rows) measure(row);

  auto print_row = [&](const std::vector<std::string>& row, bool is_header) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      if (is_header && colour)
        os << "\x1b[1m" << row[i] << "\x1b[0m";
      else
        os << coloured(row[i], colour);
      if (!last) os << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    os << "\n";
  };
  if (!t.header.empty()) print_row(t.header, true);
  for (const auto& row : t.rows) print_row(row, false);
}

bool stdout_wants_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  return ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

}  // namespace redundancy::cli
