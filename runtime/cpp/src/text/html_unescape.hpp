// HTML character references, as Python's html.unescape and ftfy's unescape_html decode them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace frozenseg::text {

// html.unescape: named references (with or without ';', longest prefix for the legacy names
// without it), decimal and hexadecimal references with html's replacement rules.
std::u32string html_unescape(std::u32string_view text);

// html.entities.html5[name] (name as in the table, e.g. "amp;" or "amp"); nullopt if absent.
std::optional<std::u32string> html5_entity(std::u32string_view name);

// The names of html.entities.html5, in the table's (sorted) order.
size_t html5_entity_count();
std::u32string html5_entity_name(size_t index);

}  // namespace frozenseg::text
