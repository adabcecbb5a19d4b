#include "text/pyregex.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>
#include <utility>

#include "common/error.hpp"
#include "text/unicode.hpp"

namespace frozenseg::text {
namespace {

constexpr int kInfinite = std::numeric_limits<int>::max();
// Repetitions are compiled by unrolling: counts and the program stay small (ftfy's patterns count
// to 3 and compile to at most 256 instructions: the suite fails with a cap of 64), so a pattern
// cannot make the compiler run out of memory or overflow a count. Matching is memoised per
// (instruction, position), so the cap, on all programs together (lookaheads are programs of their
// own), also bounds a search's work by the text's length: at 65,536 per program a valid
// (?:((?!x)y)*){1000} took 7.9 s on 1,800 characters (fuzzed, then varied in review).
constexpr int kMaxRepeat = 1000;
constexpr size_t kMaxInstructions = size_t{1} << 12;
// Groups nested deeper than this are refused: the parser and the compiler recurse once a level
// (a fuzzed pattern of 1,600 '(' overflowed the stack).
constexpr int kMaxNesting = 100;
// Compile steps a pattern may take: repetitions of an empty body emit no instruction, so the
// instruction bound alone let ((((a{0}){1000}){1000}){1000}) take 10^9 steps (41 s, fuzzed).
constexpr size_t kMaxCompileSteps = size_t{1} << 20;

[[noreturn]] void unsupported(const std::string& what) {
  throw Error(FS_INTERNAL_ERROR, "pyregex: unsupported pattern syntax: " + what);
}

// A character class: ranges, class escapes (\s \w \d and negations), negation.
struct CharSet {
  std::vector<std::pair<char32_t, char32_t>> ranges;
  enum Class : uint8_t { kSpace = 1, kNotSpace = 2, kWord = 4, kNotWord = 8, kDigit = 16, kNotDigit = 32 };
  uint8_t classes = 0;
  bool negate = false;
  bool bytes = false;

  void finish() {
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<char32_t, char32_t>> merged;
    for (const auto& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second + 1) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    ranges = std::move(merged);
  }

  bool is_space(char32_t c) const {
    if (bytes) return c == ' ' || (c >= '\t' && c <= '\r');
    return has_property(c, kPySpace);
  }
  bool is_word(char32_t c) const {
    if (c == '_') return true;
    if (bytes) return c < 0x80 && ((c | 0x20) - 'a' < 26 || c - '0' < 10);
    return has_property(c, kPyAlnum);
  }
  bool is_digit(char32_t c) const {
    if (bytes) return c >= '0' && c <= '9';
    return has_property(c, kPyDecimal);
  }

  bool contains(char32_t c) const {
    bool hit = false;
    const auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                                     [](char32_t v, const auto& r) { return v < r.first; });
    if (it != ranges.begin() && c <= std::prev(it)->second) hit = true;
    if (!hit && classes) {
      hit = ((classes & kSpace) && is_space(c)) || ((classes & kNotSpace) && !is_space(c)) ||
            ((classes & kWord) && is_word(c)) || ((classes & kNotWord) && !is_word(c)) ||
            ((classes & kDigit) && is_digit(c)) || ((classes & kNotDigit) && !is_digit(c));
    }
    return hit != negate;
  }
};

struct Node {
  enum Type { kSet, kBol, kEol, kConcat, kAlt, kRepeat, kNotAhead, kNotBehind };
  explicit Node(Type t = kConcat) : type(t) {}
  Type type;
  int set = -1;
  int min = 0, max = 0;
  bool greedy = true;
  std::vector<Node> kids;
};

enum class Op : uint8_t { kSet, kSplit, kJmp, kBol, kEol, kNotAhead, kNotBehind, kMatch };
struct Inst {
  Op op;
  int x = 0, y = 0;
};

// Explored (instruction, position) states, for programs with loops (without loops a match
// attempt explores a bounded number of paths and needs no memo): a bitmap, or a hash set where
// a bitmap of the whole text would be large.
class Visited {
 public:
  Visited(bool needed, size_t instructions, size_t positions) : needed_(needed) {
    const size_t bits = instructions * positions;
    if (needed && bits <= (size_t{1} << 27)) bits_.assign(bits, false);
  }
  // True the first time a state is seen (always, without a memo).
  bool insert(size_t state) {
    if (!needed_) return true;
    if (!bits_.empty()) {
      if (bits_[state]) return false;
      bits_[state] = true;
      seen_.push_back(state);
      return true;
    }
    return set_.insert(state).second;
  }
  // Forget every state (costs what was explored, not the text's length).
  void clear() {
    for (size_t state : seen_) bits_[state] = false;
    seen_.clear();
    set_.clear();
  }

 private:
  bool needed_;
  std::vector<bool> bits_;
  std::vector<size_t> seen_;
  std::unordered_set<size_t> set_;
};

}  // namespace

struct PyRegex::Program {
  std::vector<CharSet> sets;
  std::vector<std::vector<Inst>> code;  // code[0]: the pattern; others: lookahead bodies
  // A prefilter for unanchored scans: the sets one of which the first character of any match
  // is in, unless a match may be empty (then every position is tried).
  std::vector<int> first_sets;
  bool may_be_empty = false;
  bool has_loop = false;  // a backward jump: matching needs the memo

  using Stack = std::vector<std::pair<int, size_t>>;
  // One match attempt of code[prog] at `start` (the stack is scratch space, reused).
  bool run(size_t prog, std::u32string_view text, size_t start, Visited& visited, Stack& stack,
           size_t& end) const;
  void find_first_sets();
  bool may_start(std::u32string_view text, size_t start) const {
    if (may_be_empty) return true;
    if (start >= text.size()) return false;
    for (int set : first_sets) {
      if (sets[static_cast<size_t>(set)].contains(text[start])) return true;
    }
    return false;
  }
};

namespace {

class Parser {
 public:
  Parser(std::u32string_view p, bool bytes, bool verbose, std::vector<CharSet>& sets)
      : p_(p), bytes_(bytes), verbose_(verbose), sets_(sets) {}

  Node parse() {
    Node n = alternation();
    if (i_ != p_.size()) unsupported("unbalanced ')'");
    return n;
  }

 private:
  bool at_end() const { return i_ >= p_.size(); }
  char32_t peek() const { return p_[i_]; }

  void skip_verbose() {
    if (!verbose_) return;
    while (!at_end()) {
      const char32_t c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++i_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  int add_set(CharSet s) {
    s.bytes = bytes_;
    s.finish();
    sets_.push_back(std::move(s));
    return static_cast<int>(sets_.size()) - 1;
  }

  Node set_node(CharSet s) {
    Node n(Node::kSet);
    n.set = add_set(std::move(s));
    return n;
  }

  static CharSet literal(char32_t c) {
    CharSet s;
    s.ranges.emplace_back(c, c);
    return s;
  }

  uint32_t hex_digits(int count) {
    uint32_t v = 0;
    for (int k = 0; k < count; ++k) {
      if (at_end()) unsupported("short \\x escape");
      const char32_t c = p_[i_++];
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
      else unsupported("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return v;
  }

  // An escape after '\\': a literal code point, or a class escape merged into `into`.
  std::optional<char32_t> escape(CharSet& into) {
    if (at_end()) unsupported("trailing backslash");
    const char32_t c = p_[i_++];
    switch (c) {
      case 'x': return hex_digits(2);
      case 'u': if (bytes_) unsupported("\\u in bytes"); return hex_digits(4);
      case 'U': if (bytes_) unsupported("\\U in bytes"); return hex_digits(8);
      case 'n': return U'\n';
      case 't': return U'\t';
      case 'r': return U'\r';
      case 'f': return U'\f';
      case 'v': return U'\v';
      case 'a': return U'\a';
      case 's': into.classes |= CharSet::kSpace; return std::nullopt;
      case 'S': into.classes |= CharSet::kNotSpace; return std::nullopt;
      case 'w': into.classes |= CharSet::kWord; return std::nullopt;
      case 'W': into.classes |= CharSet::kNotWord; return std::nullopt;
      case 'd': into.classes |= CharSet::kDigit; return std::nullopt;
      case 'D': into.classes |= CharSet::kNotDigit; return std::nullopt;
      default:
        if (c < 0x80 && (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9'))) {
          unsupported(std::string("escape \\") + static_cast<char>(c));
        }
        return c;
    }
  }

  Node char_class() {  // after '['
    CharSet s;
    if (!at_end() && peek() == '^') {
      s.negate = true;
      ++i_;
    }
    bool first = true;
    while (true) {
      if (at_end()) unsupported("unterminated class");
      char32_t c = p_[i_++];
      if (c == ']' && !first) break;
      first = false;
      std::optional<char32_t> lo = c;
      if (c == '\\') lo = escape(s);
      if (!at_end() && peek() == '-') {
        ++i_;
        if (at_end()) unsupported("unterminated class");
        if (peek() == ']') {  // 'a-]': a literal '-'
          if (lo) s.ranges.emplace_back(*lo, *lo);
          s.ranges.emplace_back(U'-', U'-');
          ++i_;
          break;
        }
        char32_t d = p_[i_++];
        std::optional<char32_t> hi = d;
        if (d == '\\') hi = escape(s);
        if (!lo || !hi || *hi < *lo) unsupported("bad character range");
        s.ranges.emplace_back(*lo, *hi);
      } else if (lo) {
        s.ranges.emplace_back(*lo, *lo);
      }
    }
    return set_node(std::move(s));
  }

  Node alternation() {
    std::vector<Node> branches;
    branches.push_back(sequence());
    while (!at_end() && peek() == '|') {
      ++i_;
      branches.push_back(sequence());
    }
    if (branches.size() == 1) return std::move(branches[0]);
    Node n(Node::kAlt);
    n.kids = std::move(branches);
    return n;
  }

  Node group() {  // after '('
    if (++depth_ > kMaxNesting) unsupported("groups nested deeper than " + std::to_string(kMaxNesting));
    Node::Type type = Node::kConcat;
    if (p_.substr(i_, 2) == U"?:") {
      i_ += 2;
    } else if (p_.substr(i_, 2) == U"?!") {
      i_ += 2;
      type = Node::kNotAhead;
    } else if (p_.substr(i_, 3) == U"?<!") {
      i_ += 3;
      type = Node::kNotBehind;
    } else if (!at_end() && peek() == '?') {
      unsupported("group extension");
    }
    Node body = alternation();
    if (at_end() || peek() != ')') unsupported("missing ')'");
    ++i_;
    --depth_;
    if (type == Node::kConcat) return body;
    if (type == Node::kNotBehind && body.type != Node::kSet) {
      unsupported("lookbehind wider than one character");
    }
    Node n(type);
    n.kids.push_back(std::move(body));
    return n;
  }

  // {m}, {m,}, {,n}, {m,n}; anything else leaves '{' a literal (Python's rule).
  bool braces(int& min, int& max) {
    const size_t here = i_;  // just after '{'
    std::string lo, hi;
    if (!at_end() && peek() == '}') return false;
    while (!at_end() && peek() >= '0' && peek() <= '9') lo += static_cast<char>(p_[i_++]);
    if (!at_end() && peek() == ',') {
      ++i_;
      while (!at_end() && peek() >= '0' && peek() <= '9') hi += static_cast<char>(p_[i_++]);
    } else {
      hi = lo;
    }
    if (at_end() || peek() != '}') {
      i_ = here;
      return false;
    }
    ++i_;
    auto count = [](const std::string& digits) {
      if (digits.size() > 4 || std::stoi(digits) > kMaxRepeat) {
        unsupported("a repetition count above " + std::to_string(kMaxRepeat) + " ({" + digits + "})");
      }
      return std::stoi(digits);
    };
    min = lo.empty() ? 0 : count(lo);
    max = hi.empty() ? kInfinite : count(hi);
    if (min > max) unsupported("min repeat greater than max repeat");  // Python's re.error too
    return true;
  }

  Node sequence() {
    Node seq(Node::kConcat);
    while (true) {
      skip_verbose();
      if (at_end() || peek() == '|' || peek() == ')') break;
      const char32_t c = p_[i_++];
      Node item;
      bool repeatable = true;
      if (c == '(') {
        item = group();
        repeatable = item.type != Node::kNotAhead && item.type != Node::kNotBehind;
      } else if (c == '[') {
        item = char_class();
      } else if (c == '.') {
        CharSet s = literal(U'\n');
        s.negate = true;
        item = set_node(std::move(s));
      } else if (c == '^') {
        item = Node(Node::kBol);
        repeatable = false;
      } else if (c == '$') {
        item = Node(Node::kEol);
        repeatable = false;
      } else if (c == '\\') {
        CharSet s;
        if (auto lit = escape(s)) s.ranges.emplace_back(*lit, *lit);
        item = set_node(std::move(s));
      } else if (c == '*' || c == '+' || c == '?') {
        unsupported("nothing to repeat");
      } else {
        item = set_node(literal(c));
      }
      // One quantifier (VERBOSE skips whitespace before it too); a second is Python's "multiple repeat",
      // which the long fuzz found nesting into X*{1000}{1000}... that took 27 s to match.
      for (bool quantified = false;; quantified = true) {
        skip_verbose();
        if (at_end()) break;
        int min, max;
        const char32_t q = peek();
        if (q == '*') {
          min = 0, max = kInfinite, ++i_;
        } else if (q == '+') {
          min = 1, max = kInfinite, ++i_;
        } else if (q == '?') {
          min = 0, max = 1, ++i_;
        } else if (q == '{') {
          ++i_;
          if (!braces(min, max)) {
            --i_;
            break;
          }
        } else {
          break;
        }
        if (quantified) unsupported("multiple repeat");
        if (!repeatable) unsupported("nothing to repeat");
        Node rep(Node::kRepeat);
        rep.min = min;
        rep.max = max;
        if (!at_end() && peek() == '?') {
          rep.greedy = false;
          ++i_;
        } else if (!at_end() && peek() == '+') {
          unsupported("possessive quantifier");
        }
        rep.kids.push_back(std::move(item));
        item = std::move(rep);
      }
      seq.kids.push_back(std::move(item));
    }
    if (seq.kids.size() == 1) return std::move(seq.kids[0]);
    return seq;
  }

  std::u32string_view p_;
  bool bytes_, verbose_;
  std::vector<CharSet>& sets_;
  size_t i_ = 0;
  int depth_ = 0;  // groups open at this point
};

class Compiler {
 public:
  explicit Compiler(std::vector<std::vector<Inst>>& code) : code_(code) {}

  int compile_program(const Node& n) {
    const int index = static_cast<int>(code_.size());
    code_.emplace_back();
    std::vector<Inst> out;
    emit(n, out);
    out.push_back({Op::kMatch});
    // The cap holds for all programs together: each lookahead is a program of its own, so
    // (?:(?!a)b){1000} would otherwise compile to 1,000 programs under the cap one by one.
    size_t total = out.size();
    for (const auto& program : code_) total += program.size();
    if (total > kMaxInstructions) unsupported("a pattern compiling to over " + std::to_string(kMaxInstructions) + " instructions");
    code_[static_cast<size_t>(index)] = std::move(out);
    return index;
  }

 private:
  static int here(const std::vector<Inst>& out) { return static_cast<int>(out.size()); }

  void emit(const Node& n, std::vector<Inst>& out) {
    if (out.size() > kMaxInstructions) unsupported("a pattern compiling to over " + std::to_string(kMaxInstructions) + " instructions");
    if (++steps_ > kMaxCompileSteps) unsupported("a pattern taking over 2^20 steps to compile");
    switch (n.type) {
      case Node::kSet:
        out.push_back({Op::kSet, n.set});
        break;
      case Node::kBol:
        out.push_back({Op::kBol});
        break;
      case Node::kEol:
        out.push_back({Op::kEol});
        break;
      case Node::kConcat:
        for (const Node& k : n.kids) emit(k, out);
        break;
      case Node::kAlt: {
        std::vector<int> to_end;
        for (size_t b = 0; b < n.kids.size(); ++b) {
          if (b + 1 < n.kids.size()) {
            const int split = here(out);
            out.push_back({Op::kSplit, split + 1, 0});
            emit(n.kids[b], out);
            to_end.push_back(here(out));
            out.push_back({Op::kJmp});
            out[static_cast<size_t>(split)].y = here(out);
          } else {
            emit(n.kids[b], out);
          }
        }
        for (int j : to_end) out[static_cast<size_t>(j)].x = here(out);
        break;
      }
      case Node::kRepeat: {
        const Node& body = n.kids[0];
        for (int k = 0; k < n.min; ++k) emit(body, out);
        if (n.max == kInfinite) {
          const int loop = here(out);
          out.push_back({Op::kSplit});
          emit(body, out);
          out.push_back({Op::kJmp, loop});
          set_split(out[static_cast<size_t>(loop)], loop + 1, here(out), n.greedy);
        } else {
          std::vector<int> splits;
          for (int k = n.min; k < n.max; ++k) {
            splits.push_back(here(out));
            out.push_back({Op::kSplit});
            emit(body, out);
          }
          for (int s : splits) set_split(out[static_cast<size_t>(s)], s + 1, here(out), n.greedy);
        }
        break;
      }
      case Node::kNotAhead: {
        Compiler sub(code_);
        const int prog = sub.compile_program(n.kids[0]);
        out.push_back({Op::kNotAhead, prog});
        break;
      }
      case Node::kNotBehind:
        out.push_back({Op::kNotBehind, n.kids[0].set});
        break;
    }
  }

  static void set_split(Inst& in, int body, int skip, bool greedy) {
    in.x = greedy ? body : skip;
    in.y = greedy ? skip : body;
  }

  std::vector<std::vector<Inst>>& code_;
  size_t steps_ = 0;
};

}  // namespace

bool PyRegex::Program::run(size_t prog, std::u32string_view text, size_t start,
                           Visited& visited, Stack& stack, size_t& end) const {
  const std::vector<Inst>& code_ref = code[prog];
  const size_t n = text.size();
  const size_t width = n + 1;
  stack.clear();
  stack.emplace_back(0, start);
  while (!stack.empty()) {
    auto [pc, pos] = stack.back();
    stack.pop_back();
    while (true) {
      const size_t bit = static_cast<size_t>(pc) * width + pos;
      if (!visited.insert(bit)) break;
      const Inst& in = code_ref[static_cast<size_t>(pc)];
      bool ok = true;
      switch (in.op) {
        case Op::kSet:
          ok = pos < n && sets[static_cast<size_t>(in.x)].contains(text[pos]);
          if (ok) ++pos;
          ++pc;
          break;
        case Op::kSplit:
          stack.emplace_back(in.y, pos);
          pc = in.x;
          break;
        case Op::kJmp:
          pc = in.x;
          break;
        case Op::kBol:
          ok = pos == 0;
          ++pc;
          break;
        case Op::kEol:  // Python's '$': the end, or just before a final newline
          ok = pos == n || (pos + 1 == n && text[pos] == U'\n');
          ++pc;
          break;
        case Op::kNotAhead: {
          Visited sub(has_loop, code[static_cast<size_t>(in.x)].size(), width);
          Stack sub_stack;
          size_t ignored;
          ok = !run(static_cast<size_t>(in.x), text, pos, sub, sub_stack, ignored);
          ++pc;
          break;
        }
        case Op::kNotBehind:
          ok = pos == 0 || !sets[static_cast<size_t>(in.x)].contains(text[pos - 1]);
          ++pc;
          break;
        case Op::kMatch:
          end = pos;
          return true;
      }
      if (!ok) break;
    }
  }
  return false;
}

void PyRegex::Program::find_first_sets() {
  for (const auto& prog : code) {
    for (size_t pc = 0; pc < prog.size(); ++pc) {
      const Inst& in = prog[pc];
      if ((in.op == Op::kJmp || in.op == Op::kSplit) &&
          (static_cast<size_t>(in.x) <= pc || (in.op == Op::kSplit && static_cast<size_t>(in.y) <= pc))) {
        has_loop = true;
      }
    }
  }
  // Walk the instructions a match can start with; assertions are let through (a superset).
  const std::vector<Inst>& main = code[0];
  std::vector<bool> seen(main.size());
  std::vector<int> todo = {0};
  while (!todo.empty()) {
    const int pc = todo.back();
    todo.pop_back();
    if (seen[static_cast<size_t>(pc)]) continue;
    seen[static_cast<size_t>(pc)] = true;
    const Inst& in = main[static_cast<size_t>(pc)];
    switch (in.op) {
      case Op::kSet:
        first_sets.push_back(in.x);
        break;
      case Op::kSplit:
        todo.push_back(in.x);
        todo.push_back(in.y);
        break;
      case Op::kJmp:
        todo.push_back(in.x);
        break;
      case Op::kBol:
      case Op::kNotAhead:
      case Op::kNotBehind:
        todo.push_back(pc + 1);
        break;
      case Op::kEol:
      case Op::kMatch:
        may_be_empty = true;
        break;
    }
  }
}

PyRegex::PyRegex(std::u32string_view pattern, bool bytes_pattern, bool verbose)
    : program_(std::make_unique<Program>()) {
  Node root = Parser(pattern, bytes_pattern, verbose, program_->sets).parse();
  Compiler(program_->code).compile_program(root);
  program_->find_first_sets();
}

PyRegex::~PyRegex() = default;
PyRegex::PyRegex(PyRegex&&) noexcept = default;
PyRegex& PyRegex::operator=(PyRegex&&) noexcept = default;

std::optional<size_t> PyRegex::match_at(std::u32string_view text, size_t start) const {
  Visited visited(program_->has_loop, program_->code[0].size(), text.size() + 1);
  Program::Stack stack;
  size_t end;
  if (program_->run(0, text, start, visited, stack, end)) return end;
  return std::nullopt;
}

std::optional<std::pair<size_t, size_t>> PyRegex::search(std::u32string_view text) const {
  // Failed (instruction, position) states fail from any start: one memo for the whole scan.
  Visited visited(program_->has_loop, program_->code[0].size(), text.size() + 1);
  Program::Stack stack;
  for (size_t start = 0; start <= text.size(); ++start) {
    size_t end;
    if (program_->may_start(text, start) && program_->run(0, text, start, visited, stack, end)) {
      return std::make_pair(start, end);
    }
  }
  return std::nullopt;
}

std::u32string PyRegex::sub(std::u32string_view text,
                            const std::function<std::u32string(std::u32string_view)>& replace) const {
  std::u32string out;
  Visited visited(program_->has_loop, program_->code[0].size(), text.size() + 1);
  Program::Stack stack;
  size_t copied = 0, start = 0;
  while (start <= text.size()) {
    size_t end;
    if (!program_->may_start(text, start) ||
        !program_->run(0, text, start, visited, stack, end)) {
      ++start;
      continue;
    }
    out.append(text.substr(copied, start - copied));
    out += replace(text.substr(start, end - start));
    visited.clear();  // states explored on the way to a match are not failures
    if (end == start) {
      if (start < text.size()) out.push_back(text[start]);
      start = end + 1;
    } else {
      start = end;
    }
    copied = std::min(start, text.size());
  }
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

}  // namespace frozenseg::text
