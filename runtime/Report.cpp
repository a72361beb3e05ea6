//===- Report.cpp - The HTML training report of JSONL logs ----------------===//
#include "runtime/Report.h"

#include "runtime/AtomicWrite.h"
#include "runtime/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace nnrt {

//===----------------------------------------------------------------------===//
// Reading logs
//===----------------------------------------------------------------------===//

static bool isCount(const json &v) {
  return v.is_number_unsigned() ||
         (v.is_number_integer() && v.get<int64_t>() >= 0);
}

static void checkPeriod(const json &event, const std::string &where) {
  if (!event.contains("epoch") || !event["epoch"].is_number_integer())
    throw Error(where + ": epoch event without a whole-number \"epoch\"");
  if (event.contains("step") && !event["step"].is_number_integer())
    throw Error(where + ": epoch event whose \"step\" is not a whole number");
}

static void checkDone(const json &event, const std::string &where) {
  if (auto it = event.find("confusion"); it != event.end()) {
    bool square = it->is_array();
    for (const json &row : *it)
      square = square && row.is_array() && row.size() == it->size() &&
               std::all_of(row.begin(), row.end(), isCount);
    if (!square)
      throw Error(where +
                  ": done event whose \"confusion\" is not a square matrix "
                  "of counts");
  }
  if (auto it = event.find("classes"); it != event.end())
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(),
                     [](const json &c) { return c.is_string(); }))
      throw Error(where +
                  ": done event whose \"classes\" is not a list of names");
  if (auto it = event.find("settings"); it != event.end() && !it->is_object())
    throw Error(where + ": done event whose \"settings\" is not an object");
}

RunLog parseRunLog(const std::string &name, std::istream &in) {
  RunLog log;
  log.name = name;
  bool anyEvent = false;
  size_t lineNo = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string where = fmt::format("{}:{}", name, lineNo);
    json event;
    try {
      event = json::parse(line);
    } catch (const json::parse_error &e) {
      throw Error(fmt::format("{}: not valid JSON at byte {} (a truncated or "
                              "corrupted line)",
                              where, e.byte));
    }
    if (!event.is_object() || !event.contains("event") ||
        !event["event"].is_string())
      throw Error(where +
                  ": not a log event (a JSON object with an \"event\" name)");
    anyEvent = true;
    const std::string &kind = event["event"].get_ref<const std::string &>();
    if (kind == "epoch") {
      checkPeriod(event, where);
      log.periods.push_back(std::move(event));
    } else if (kind == "done") {
      checkDone(event, where);
      log.done = std::move(event);
    }
  }
  if (in.bad())
    throw Error(name + ": cannot read the log: " + systemError(errno));
  if (!anyEvent)
    throw Error(name + ": the log is empty (no events)");
  if (log.periods.empty())
    throw Error(name + ": no epoch or evaluation events (the run logged none)");
  return log;
}

RunLog readRunLog(const std::string &path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw Error(path + ": is a folder, not a log file");
  std::ifstream in(path);
  if (!in)
    throw Error(path + ": cannot open the log: " + systemError(errno));
  return parseRunLog(path, in);
}

bool RunLog::inSteps() const {
  if (!done.is_object())
    return false;
  auto settings = done.find("settings");
  return settings != done.end() && settings->contains("steps");
}

std::vector<std::string> RunLog::classNames() const {
  std::vector<std::string> names;
  if (!done.is_object() || !done.contains("confusion"))
    return names;
  const json *given = done.contains("classes") ? &done["classes"] : nullptr;
  for (size_t c = 0; c < done["confusion"].size(); ++c)
    names.push_back(given && c < given->size() ? (*given)[c].get<std::string>()
                                               : std::to_string(c));
  return names;
}

//===----------------------------------------------------------------------===//
// Drawing
//===----------------------------------------------------------------------===//

std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

namespace {

/// One colour per run (Tableau 10), repeated after ten runs.
const char *const kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                "#bcbd22", "#17becf"};

const char *colour(size_t run) { return kColours[run % std::size(kColours)]; }

/// Fields of an epoch event that are not curves of their own (or, lr and
/// the losses, that get their own charts).
bool isCurve(const std::string &key) {
  for (const char *other :
       {"event", "epoch", "step", "lr", "train_loss", "val_loss",
        "samples_per_s", "seconds", "allreduce_s", "wait_s"})
    if (key == other)
      return false;
  return true;
}

std::string number(double value) { return fmt::format("{:.6g}", value); }

/// A JSON value of a settings or metrics table as text.
std::string cell(const json &value) {
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_number_float())
    return number(value.get<double>());
  if (value.is_null())
    return "not finite";
  return value.dump();
}

struct Point {
  int64_t at; ///< the epoch, or the step for runs in steps
  double y;
};

/// One curve: a field of one run's epoch events.
struct Series {
  size_t run;
  std::string key;
  bool dashed = false;
  std::vector<std::optional<Point>> points; ///< nullopt: not finite (a gap)
};

/// Tick spacing of about `target` intervals over `range`: 1, 2 or 5 x 10^k.
double niceStep(double range, double target) {
  double raw = range / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

/// An axis: [lo, hi] widened to whole ticks.
struct Axis {
  double lo, hi, step;
  Axis(double min, double max, bool whole) {
    if (!(max > min)) {
      double pad = whole ? 1 : std::max(std::abs(min) * 0.1, 1e-6);
      min -= pad;
      max += pad;
    }
    step = niceStep(max - min, 5);
    if (whole)
      step = std::max(step, 1.0);
    lo = std::floor(min / step) * step;
    hi = std::ceil(max / step) * step;
  }
  /// Intervals between ticks (none for values too far apart for a double).
  int ticks() const {
    double n = (hi - lo) / step;
    return std::isfinite(n) ? int(std::lround(std::min(n, 100.0))) : 0;
  }
  /// Rounded to a multiple of the step, so that 0 prints as 0 (and not
  /// 5.55e-17 or -0).
  double tick(int k) const {
    return std::round((lo + k * step) / step) * step + 0.0;
  }
};

class Chart {
public:
  static constexpr double W = 560, H = 320, Left = 70, Right = 16, Top = 14,
                          Bottom = 46;

  Chart(std::string key, std::string title, std::string xLabel)
      : key(std::move(key)), title(std::move(title)),
        xLabel(std::move(xLabel)) {}

  void add(Series s) { series.push_back(std::move(s)); }
  bool empty() const {
    for (const Series &s : series)
      for (const auto &p : s.points)
        if (p)
          return false;
    return true;
  }

  std::string svg(const std::vector<RunLog> &runs) const {
    double xMin = INFINITY, xMax = -INFINITY, yMin = INFINITY, yMax = -INFINITY;
    for (const Series &s : series)
      for (const auto &p : s.points)
        if (p) {
          xMin = std::min(xMin, double(p->at));
          xMax = std::max(xMax, double(p->at));
          yMin = std::min(yMin, p->y);
          yMax = std::max(yMax, p->y);
        }
    Axis xAxis(xMin, xMax, true), yAxis(yMin, yMax, false);
    auto px = [&](double x) {
      return Left + (x - xAxis.lo) / (xAxis.hi - xAxis.lo) * (W - Left - Right);
    };
    auto py = [&](double y) {
      return H - Bottom -
             (y - yAxis.lo) / (yAxis.hi - yAxis.lo) * (H - Top - Bottom);
    };
    std::string out = fmt::format(
        "<figure class=\"chart\" data-chart=\"{0}\">\n<figcaption>{1}"
        "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "viewBox=\"0 0 {2} {3}\" width=\"{2}\" height=\"{3}\" role=\"img\" "
        "aria-label=\"{1}\">\n<g class=\"axes\">\n",
        escapeHtml(key), escapeHtml(title), W, H);
    for (int k = 0; k <= yAxis.ticks(); ++k) {
      double y = py(yAxis.tick(k));
      out +=
          fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" "
                      "class=\"grid\"/><text x=\"{}\" y=\"{:.1f}\" "
                      "class=\"ytick\">{:.4g}</text>\n",
                      Left, y, W - Right, y, Left - 6, y + 4, yAxis.tick(k));
    }
    int xEvery = std::max(1, xAxis.ticks() / 10);
    for (int k = 0; k <= xAxis.ticks(); k += xEvery) {
      double x = px(xAxis.tick(k));
      out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" "
                         "y2=\"{2}\" class=\"grid\"/><text x=\"{0:.1f}\" "
                         "y=\"{3}\" class=\"xtick\">{4:.6g}</text>\n",
                         x, Top, H - Bottom, H - Bottom + 16, xAxis.tick(k));
    }
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                       "class=\"frame\"/>\n<text x=\"{}\" y=\"{}\" "
                       "class=\"xlabel\">{}</text>\n</g>\n",
                       Left, Top, W - Left - Right, H - Top - Bottom,
                       (Left + W - Right) / 2, H - 8, escapeHtml(xLabel));
    for (const Series &s : series) {
      size_t count = 0;
      for (const auto &p : s.points)
        count += p.has_value();
      const std::string &name = runs[s.run].name;
      out += fmt::format(
          "<g class=\"series\" data-run=\"{}\" data-file=\"{}\" "
          "data-series=\"{}\" data-points=\"{}\" stroke=\"{}\" fill=\"{}\">\n",
          s.run, escapeHtml(name), escapeHtml(s.key), count, colour(s.run),
          colour(s.run));
      // A polyline per stretch of finite values: a null breaks the curve.
      std::string line;
      auto flush = [&] {
        if (line.find(' ') != std::string::npos)
          out += fmt::format("<polyline points=\"{}\" fill=\"none\"{}/>\n",
                             line, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
        line.clear();
      };
      for (const auto &p : s.points) {
        if (!p) {
          flush();
          continue;
        }
        if (!line.empty())
          line += ' ';
        line += fmt::format("{:.1f},{:.1f}", px(double(p->at)), py(p->y));
      }
      flush();
      for (const auto &p : s.points)
        if (p)
          out += fmt::format(
              "<circle class=\"pt\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" "
              "data-x=\"{}\" data-y=\"{}\"><title>{}: {} at {} {}: {}"
              "</title></circle>\n",
              px(double(p->at)), py(p->y), p->at, number(p->y),
              escapeHtml(name), escapeHtml(s.key), escapeHtml(xLabel), p->at,
              number(p->y));
      out += "</g>\n";
    }
    return out + "</svg>\n</figure>\n";
  }

private:
  std::string key, title, xLabel;
  std::vector<Series> series;
};

/// The series of `key` in `run`'s epoch events.
Series seriesOf(const RunLog &run, size_t index, const std::string &key,
                bool bySteps, bool dashed = false) {
  Series s{index, key, dashed, {}};
  for (const json &e : run.periods) {
    auto v = e.find(key);
    if (v == e.end())
      continue;
    int64_t at =
        bySteps ? e.value("step", int64_t(0)) : e["epoch"].get<int64_t>();
    if (v->is_number())
      s.points.push_back(Point{at, v->get<double>()});
    else
      s.points.push_back(std::nullopt);
  }
  return s;
}

/// Keys of the runs' epoch events in first-seen order that pass `keep`.
std::vector<std::string> periodKeys(const std::vector<RunLog> &runs,
                                    bool (*keep)(const std::string &)) {
  std::vector<std::string> keys;
  for (const RunLog &run : runs)
    for (const json &e : run.periods)
      for (const auto &[key, value] : e.items())
        if (keep(key) && std::find(keys.begin(), keys.end(), key) == keys.end())
          keys.push_back(key);
  return keys;
}

std::string charts(const std::vector<RunLog> &runs) {
  // Runs in steps are drawn over steps; as soon as one run counts epochs,
  // every run is drawn over its epochs (evaluations) so that they overlay.
  bool bySteps = std::all_of(runs.begin(), runs.end(),
                             [](const RunLog &r) { return r.inSteps(); });
  std::string x = bySteps ? "step" : "epoch";
  std::vector<Chart> list;
  list.emplace_back("loss", "loss (solid: training, dashed: validation)", x);
  for (size_t r = 0; r < runs.size(); ++r) {
    list.back().add(seriesOf(runs[r], r, "train_loss", bySteps));
    list.back().add(seriesOf(runs[r], r, "val_loss", bySteps, true));
  }
  for (const std::string &key : periodKeys(runs, isCurve)) {
    list.emplace_back(key, key, x);
    for (size_t r = 0; r < runs.size(); ++r)
      list.back().add(seriesOf(runs[r], r, key, bySteps));
  }
  list.emplace_back("lr", "learning rate (at the period's last step)", x);
  for (size_t r = 0; r < runs.size(); ++r)
    list.back().add(seriesOf(runs[r], r, "lr", bySteps));
  std::string out = "<div class=\"charts\">\n";
  for (const Chart &chart : list)
    if (!chart.empty())
      out += chart.svg(runs);
  return out + "</div>\n";
}

/// White to dark blue by the share of the true class's samples.
std::string heat(double share) {
  auto mix = [&](int from, int to) {
    return int(std::lround(from + (to - from) * share));
  };
  return fmt::format("rgb({},{},{})", mix(247, 8), mix(251, 48), mix(255, 107));
}

/// Classes beyond which a heat map is no longer readable (and its page
/// grows by n^2 cells).
constexpr size_t kMaxDrawnClasses = 100;

std::string confusion(const RunLog &run, size_t index) {
  const json &matrix = run.done["confusion"];
  std::vector<std::string> names = run.classNames();
  size_t n = names.size();
  if (n > kMaxDrawnClasses)
    return fmt::format("<p class=\"confusion\" data-run=\"{}\">{}: {} classes, "
                       "too many to draw (at most {})</p>\n",
                       index, escapeHtml(run.name), n, kMaxDrawnClasses);
  double size = std::clamp(560.0 / double(std::max<size_t>(n, 1)), 12.0, 48.0);
  size_t longest = 1;
  for (const std::string &name : names)
    longest = std::max(longest, std::min<size_t>(name.size(), 24));
  double left = 20 + 7.0 * double(longest), top = 20 + 5.0 * double(longest);
  double w = left + size * double(n) + 10, h = top + size * double(n) + 10;
  std::string out = fmt::format(
      "<figure class=\"confusion\" data-run=\"{0}\" data-file=\"{1}\">\n"
      "<figcaption><span class=\"swatch\" style=\"background:{2}\"></span> "
      "{1}: rows are the true class, columns the predicted one; the colour is "
      "the share of the true class's samples</figcaption>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {3:.0f} "
      "{4:.0f}\" width=\"{3:.0f}\" height=\"{4:.0f}\" data-classes=\"{5}\" "
      "role=\"img\" aria-label=\"confusion matrix of {1}\">\n",
      index, escapeHtml(run.name), colour(index), w, h, n);
  // Long names are cut (at a character boundary) to keep the grid in view;
  // data-name holds the whole name.
  auto label = [](const std::string &name) {
    if (name.size() <= 24)
      return name;
    size_t cut = 23;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
      --cut;
    return name.substr(0, cut) + "\u2026";
  };
  for (size_t c = 0; c < n; ++c) {
    double mid = double(c) * size + size / 2;
    std::string name = escapeHtml(names[c]),
                shown = escapeHtml(label(names[c]));
    out += fmt::format("<text class=\"class-name row\" data-name=\"{}\" "
                       "x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                       name, left - 6, top + mid + 4, shown);
    out += fmt::format("<text class=\"class-name column\" data-name=\"{}\" "
                       "transform=\"translate({:.1f},{:.1f}) rotate(-45)\">{}"
                       "</text>\n",
                       name, left + mid, top - 6, shown);
  }
  for (size_t t = 0; t < n; ++t) {
    double total = 0;
    for (const json &count : matrix[t])
      total += count.get<double>();
    for (size_t p = 0; p < n; ++p) {
      auto count = matrix[t][p].get<uint64_t>();
      double share = total > 0 ? double(count) / total : 0;
      double x = left + double(p) * size, y = top + double(t) * size;
      out += fmt::format(
          "<rect class=\"cell\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
          "height=\"{:.1f}\" fill=\"{}\" data-true=\"{}\" "
          "data-predicted=\"{}\" "
          "data-count=\"{}\"><title>true {}, predicted {}: {} ({:.1f}% of "
          "the class)</title></rect>\n",
          x, y, size, size, heat(share), t, p, count, escapeHtml(names[t]),
          escapeHtml(names[p]), count, 100 * share);
      if (size >= 20)
        out += fmt::format("<text class=\"count{}\" x=\"{:.1f}\" "
                           "y=\"{:.1f}\">{}</text>\n",
                           share > 0.5 ? " dark" : "", x + size / 2,
                           y + size / 2 + 4, count);
    }
  }
  return out + "</svg>\n</figure>\n";
}

/// A table with a column per run: `rows` of (heading, value per run).
std::string table(
    const std::string &cls, const std::vector<RunLog> &runs,
    const std::vector<std::pair<std::string, std::vector<std::string>>> &rows) {
  std::string out = "<table class=\"" + cls + "\">\n<tr><th></th>";
  for (size_t r = 0; r < runs.size(); ++r)
    out += fmt::format("<th><span class=\"swatch\" style=\"background:{}\">"
                       "</span> {}</th>",
                       colour(r), escapeHtml(runs[r].name));
  out += "</tr>\n";
  for (const auto &[heading, values] : rows) {
    out += "<tr><th>" + escapeHtml(heading) + "</th>";
    for (const std::string &v : values)
      out += "<td>" + escapeHtml(v) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

using Rows = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// Adds the row `heading` of `value(run)` (nullopt: empty) when any run has
/// a value.
template <typename F>
void addRow(Rows &rows, const std::vector<RunLog> &runs,
            const std::string &heading, F value) {
  std::vector<std::string> values;
  bool any = false;
  for (const RunLog &run : runs) {
    std::optional<std::string> v = value(run);
    any = any || v.has_value();
    values.push_back(v.value_or(""));
  }
  if (any)
    rows.emplace_back(heading, std::move(values));
}

/// A field of the done event (`object` "settings" for its settings).
std::optional<std::string> doneField(const RunLog &run, const std::string &key,
                                     const char *object = nullptr) {
  if (!run.done.is_object())
    return std::nullopt;
  const json *from = &run.done;
  if (object) {
    if (!run.done.contains(object))
      return std::nullopt;
    from = &run.done[object];
  }
  auto it = from->find(key);
  if (it == from->end())
    return std::nullopt;
  return cell(*it);
}

std::string settings(const std::vector<RunLog> &runs) {
  Rows rows;
  for (const char *key : {"run", "model"})
    addRow(rows, runs, key, [&](const RunLog &r) { return doneField(r, key); });
  std::vector<std::string> keys;
  for (const RunLog &run : runs)
    if (run.done.is_object() && run.done.contains("settings"))
      for (const auto &[key, value] : run.done["settings"].items())
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
          keys.push_back(key);
  for (const std::string &key : keys)
    addRow(rows, runs, key,
           [&](const RunLog &r) { return doneField(r, key, "settings"); });
  addRow(rows, runs, "stopped",
         [](const RunLog &r) { return doneField(r, "stopped"); });
  addRow(rows, runs, "seconds",
         [](const RunLog &r) { return doneField(r, "seconds"); });
  if (rows.empty())
    return "<p>The logs have no done event (the runs did not finish), so "
           "their settings are unknown.</p>\n";
  return table("settings", runs, rows);
}

bool anyKey(const std::string &key) { return key != "event"; }

std::string finalMetrics(const std::vector<RunLog> &runs) {
  Rows rows;
  for (const std::string &key : periodKeys(runs, anyKey))
    addRow(rows, runs, key, [&](const RunLog &r) -> std::optional<std::string> {
      auto it = r.periods.back().find(key);
      if (it == r.periods.back().end())
        return std::nullopt;
      return cell(*it);
    });
  for (const char *key : {"best_val_loss", "best_epoch"})
    addRow(rows, runs, key, [&](const RunLog &r) { return doneField(r, key); });
  return table("metrics", runs, rows);
}

constexpr const char kStyle[] = R"(
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto;
       max-width: 1280px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
          vertical-align: -1px; }
ul.runs { list-style: none; padding: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0 0 12px 0; }
figcaption { font-weight: 600; margin-bottom: 2px; }
svg text { font: 11px system-ui, sans-serif; fill: #333; stroke: none; }
.grid { stroke: #e6e6e6; }
.frame { fill: none; stroke: #999; }
.ytick { text-anchor: end; }
.xtick, .xlabel { text-anchor: middle; }
.series circle { stroke: none; }
.series polyline { stroke-width: 1.8; }
.class-name.row { text-anchor: end; }
.count { text-anchor: middle; fill: #222; }
.count.dark { fill: #fff; }
.cell { stroke: #fff; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td { font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
)";

} // namespace

std::string renderReport(const ReportContent &content) {
  const std::vector<RunLog> &runs = content.runs;
  std::string names;
  for (const RunLog &run : runs)
    names += (names.empty() ? "" : ", ") + run.name;
  // The policy forbids every fetch: a page that tried one would show a
  // console error (the report test fails on those).
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'; img-src data:\">\n"
      "<link rel=\"icon\" href=\"data:,\">\n<title>Training report: {}"
      "</title>\n<style>{}</style>\n</head>\n<body>\n<h1>Training report</h1>"
      "\n<ul class=\"runs\">\n",
      escapeHtml(names), kStyle);
  for (size_t r = 0; r < runs.size(); ++r) {
    const RunLog &run = runs[r];
    std::string what = fmt::format("{} {}{}", run.periods.size(),
                                   run.inSteps() ? "evaluation" : "epoch",
                                   run.periods.size() == 1 ? "" : "s");
    if (auto stopped = doneField(run, "stopped"))
      what += ", " + *stopped;
    else
      what += ", unfinished (no done event)";
    out +=
        fmt::format("<li class=\"run\" data-run=\"{}\"><span class=\"swatch\" "
                    "style=\"background:{}\"></span> <code>{}</code>: {}"
                    "</li>\n",
                    r, colour(r), escapeHtml(run.name), escapeHtml(what));
  }
  out += "</ul>\n<h2>Curves</h2>\n" + charts(runs);
  std::string matrices;
  for (size_t r = 0; r < runs.size(); ++r)
    if (runs[r].done.is_object() && runs[r].done.contains("confusion"))
      matrices += confusion(runs[r], r);
  if (!matrices.empty())
    out += "<h2>Confusion matrix (the last evaluation)</h2>\n" + matrices;
  out += "<h2>Settings</h2>\n" + settings(runs);
  out += "<h2>Final metrics (the last epoch or evaluation)</h2>\n" +
         finalMetrics(runs);
  if (!content.summary.empty())
    out += "<h2>" + escapeHtml(content.summaryTitle) + "</h2>\n<pre>" +
           escapeHtml(content.summary) + "</pre>\n";
  return out + "</body>\n</html>\n";
}

void writeReport(const std::string &path, const ReportContent &content) {
  std::string page = renderReport(content);
  writeFileAtomically(path, {{page.data(), page.size()}});
}

} // namespace nnrt
