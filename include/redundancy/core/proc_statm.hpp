// A process's memory as /proc/<pid>/statm gives it.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace redundancy {

struct process_memory {
  std::uint64_t virtual_bytes{};
  std::uint64_t resident_bytes{};
};

// `which`: "self" or a pid as text. nullopt when the file cannot be read or does not start with two
// page counts.
std::optional<process_memory> read_statm(std::string_view which = "self");

}  // namespace redundancy
