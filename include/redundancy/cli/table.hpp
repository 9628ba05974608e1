// Plain-text tables for the CLI's human-readable output, with status words coloured on a terminal.
#pragma once
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace redundancy::cli {

struct table {
  std::vector<std::string> header{};
  std::vector<std::vector<std::string>> rows{};
};

// Prints the header and rows in left-aligned columns two spaces apart; the last column is not padded.
// With `colour`, a cell that is a status word ("healthy", "failed", ...) is wrapped in an ANSI colour,
// the padding still computed from the plain text.
void print_table(std::ostream& os, const table& t, bool colour);

// The status word in its colour (green ok, yellow warning, red bad, dim unknown), or as is without `colour`.
std::string coloured(std::string_view status, bool colour);

// Whether stdout is a terminal and $NO_COLOR is unset: the only case in which the CLI prints colour.
bool stdout_wants_colour();

}  // namespace redundancy::cli
