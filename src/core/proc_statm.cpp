// Reading /proc/<pid>/statm: its first two fields are the virtual and resident sizes, in pages.
#include "redundancy/core/proc_statm.hpp"

#include <unistd.h>

#include <charconv>
#include <string>

#include "redundancy/core/small_file.hpp"

namespace redundancy {
namespace {

// The next space-separated number at `pos`, advancing past it.
std::optional<std::uint64_t> next_number(std::string_view text, std::size_t& pos) {
  pos = text.find_first_not_of(" \t\n", pos);
  if (pos == std::string_view::npos) return std::nullopt;
  std::uint64_t value{};
  const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  pos = static_cast<std::size_t>(end - text.data());
  return value;
}

}  // namespace

std::optional<process_memory> read_statm(std::string_view which) {
  const auto text = read_small_file("/proc/" + std::string(which) + "/statm");
  const long page = ::sysconf(_SC_PAGESIZE);
  if (!text || page <= 0) return std::nullopt;
  std::size_t pos = 0;
  const auto size = next_number(*text, pos);
  const auto resident = size ? next_number(*text, pos) : std::nullopt;
  if (!resident) return std::nullopt;
  const auto page_bytes = static_cast<std::uint64_t>(page);
  return process_memory{.virtual_bytes = *size * page_bytes, .resident_bytes = *resident * page_bytes};
}

}  // namespace redundancy
