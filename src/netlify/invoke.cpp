// Running the invoke harness for one function and reading its verdict.
#include "redundancy/netlify/invoke.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/process.hpp"
#include "redundancy/core/small_file.hpp"
#include "redundancy/netlify/checks.hpp"

#include <boost/json/parse.hpp>

namespace redundancy::netlify {

namespace {

// Preceded by a newline: the harness starts its line with one, so output without a final newline
// cannot hide it.
constexpr std::string_view marker_line = "\n@@redundancy-invoke@@ ";

// The harness's result line: the last stdout line that starts with the marker.
std::optional<boost::json::object> result_line(std::string_view out) {
  const auto at = out.rfind(marker_line);
  if (at == std::string_view::npos) return std::nullopt;
  auto line = out.substr(at + marker_line.size());
  line = line.substr(0, line.find('\n'));
  std::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

std::optional<std::string> install_invoke_harness(const std::filesystem::path& file) {
  if (const auto current = read_small_file(file); current && *current == invoke_harness_source()) return std::nullopt;
  return write_file_atomically(file, invoke_harness_source(), 0644);
}

awaitable<invocation> invoke_function(const function_entry& function, const std::filesystem::path& harness,
                                      std::chrono::milliseconds timeout) {
  invocation out;
  out.at = std::chrono::system_clock::now();
  process_spec spec;
  spec.argv = {"node",
               harness.string(),
               function.file.string(),
               function.name,
               std::string{to_string(function.format)},
               std::to_string(timeout.count())};
  spec.cwd = function.file.parent_path();
  spec.inherit = child_env::node;
  spec.timeout = timeout + std::chrono::seconds(5);
  spec.output_cap = 256 * 1024;
  const auto r = co_await run_process(std::move(spec));
  if (!r.started()) {
    out.error = r.error;
    out.not_run = true;
    co_return out;
  }
  if (const auto line = result_line(r.out)) {
    if (const auto* s = line->if_contains("status"); s != nullptr && s->is_int64())
      out.status = static_cast<int>(s->as_int64());
    const auto* ok = line->if_contains("ok");
    out.ok = ok != nullptr && ok->is_bool() && ok->as_bool();
    if (const auto* e = line->if_contains("error"); e != nullptr && e->is_string())
      out.error = std::string{e->get_string()};
    if (!out.ok && out.error.empty()) out.error = "failed";
    co_return out;
  }
  // No verdict line: the process died, was killed, or printed so much the line was dropped.
  if (r.ok()) {
    out.ok = true;
    co_return out;
  }
  const auto err = tail_of(r.err, 300);
  out.error = r.describe() + (err.empty() ? "" : ": " + err);
  co_return out;
}

}  // namespace redundancy::netlify
