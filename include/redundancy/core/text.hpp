// Small text helpers that several parts of the daemon need alike.
#pragma once
#include <string>
#include <string_view>

namespace redundancy {

// `text` without the ASCII white space (space, tab, CR, LF, vertical tab, form feed) at either end.
std::string_view trim(std::string_view text);

// The line of a failed child's output that says what failed, at most 300 bytes: the first that reads as
// an error ("Error: ...", "TypeError: ...", "[PM2][ERROR] ...", "error: ...", "npm ERR! ..."), which
// for a Node stack is its message rather than the "Node.js v20" it ends with; else the last line that
// is not a stack frame or Node's version.
std::string failure_line(std::string_view output);

}  // namespace redundancy
