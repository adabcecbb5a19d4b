// ftfy 6.3's mojibake repair (ftfy.fix_encoding with the default configuration), ported step by
// step: the badness heuristic decides whether to try; the text is encoded in each single-byte
// codec it could have been decoded with (latin-1, sloppy windows-125x, iso-8859-2, macroman,
// cp437), byte A0 restored and lossy sequences replaced, then decoded as UTF-8 (or ftfy's
// utf-8-variants); otherwise inconsistent embedded UTF-8 is fixed piecewise, Latin-1 is read as
// Windows-1252, and C1 controls are replaced. ftfy's regular expressions run on text/pyregex.
#pragma once

#include <string>
#include <string_view>

namespace frozenseg::text {

// ftfy.badness.is_bad: the text holds a sequence typical of mojibake.
bool ftfy_is_bad(std::u32string_view text);

// ftfy.fix_encoding(text): repeated single steps until nothing changes.
std::u32string ftfy_fix_encoding(std::u32string_view text);

}  // namespace frozenseg::text
