// Duplicate keys in the config's JSON text: Boost.JSON keeps one silently, so which value counts
// would be a guess; they are found here in the text, where the lines still are.
#include <boost/json/parse.hpp>

#include "config_internal.hpp"

namespace redundancy::config_detail {
namespace {

// One open object or array: the path of its value, and for objects the keys seen with their line.
struct frame {
  bool object = false;
  std::string path;
  std::map<std::string, std::size_t> keys{};
  std::string key{};       // the key whose value comes next (objects)
  bool expect_key = true;  // the next string is a key (objects)
  std::size_t index = 0;   // the item that comes next (arrays)
};

std::string member_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// The path of the value that starts next inside top.
std::string next_path(const frame& top) {
  return top.object ? member_path(top.path, top.key) : top.path + "[" + std::to_string(top.index) + "]";
}

}  // namespace

void find_duplicate_keys(std::string_view text, std::string_view where, const std::string& root_path,
                         error_list& errors) {
  std::vector<frame> open;
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      const bool block = text[i + 1] == '*';
      const auto end = block ? text.find("*/", i + 2) : text.find('\n', i + 2);
      const auto stop = end == std::string_view::npos ? text.size() : end + (block ? 2 : 0);
      for (std::size_t j = i; j < stop; ++j) line += text[j] == '\n';
      i = stop;
    } else if (c == '{' || c == '[') {
      frame f;
      f.object = c == '{';
      f.path = open.empty() ? root_path : next_path(open.back());
      open.push_back(std::move(f));
      ++i;
    } else if (c == '}' || c == ']') {
      if (!open.empty()) open.pop_back();
      ++i;
    } else if (c == ',') {
      if (!open.empty()) {
        open.back().expect_key = true;
        ++open.back().index;
      }
      ++i;
    } else if (c == ':') {
      if (!open.empty()) open.back().expect_key = false;
      ++i;
    } else if (c == '"') {
      std::size_t end = i + 1;
      bool escaped = false;
      for (; end < text.size() && text[end] != '"'; ++end) {
        if (text[end] == '\\') {
          escaped = true;
          ++end;
        }
      }
      if (!open.empty() && open.back().object && open.back().expect_key) {
        const auto token = text.substr(i, end + 1 - i);
        std::string key(token.substr(1, token.size() >= 2 ? token.size() - 2 : 0));
        // "a" and "\u0061" are the same key: escapes are decoded by the parser that reads them.
        if (escaped) {
          boost::json::error_code ec;
          const auto decoded = boost::json::parse(token, ec);
          if (!ec && decoded.is_string()) key = std::string(decoded.get_string());
        }
        auto& top = open.back();
        const auto [first, fresh] = top.keys.emplace(key, line);
        if (!fresh) {
          std::string message(where);
          message.append("line ").append(std::to_string(line)).append(": ");
          message.append(member_path(top.path, key)).append(" given twice (first on line ");
          message.append(std::to_string(first->second)).append(")");
          errors.push_back(std::move(message));
        }
        top.key = std::move(key);
        top.expect_key = false;
      }
      i = end + 1;
    } else {
      ++i;
    }
  }
}

}  // namespace redundancy::config_detail
