//===- ReportTest.cpp - Reading logs back and the HTML training report ----===//
#include "runtime/Report.h"

#include "runtime/Log.h"

#include "TestUtil.h"

#include <regex>
#include <set>
#include <sstream>

using namespace nnrt;
using namespace nnrt::test;

namespace {

/// Three epochs with validation and accuracy, and a done event with a 2x2
/// confusion matrix whose class names need escaping.
const char kLog[] =
    R"({"event":"epoch","epoch":1,"step":10,"lr":0.1,"train_loss":0.9,"val_loss":0.8,"accuracy":0.6,"samples_per_s":100,"seconds":1})"
    "\n"
    R"({"event":"epoch","epoch":2,"step":20,"lr":0.05,"train_loss":0.5,"val_loss":0.45,"accuracy":0.8,"samples_per_s":100,"seconds":1})"
    "\n"
    R"({"event":"epoch","epoch":3,"step":30,"lr":0.01,"train_loss":0.3,"val_loss":0.35,"accuracy":0.9,"samples_per_s":100,"seconds":1})"
    "\n"
    R"({"event":"done","epochs":3,"steps":30,"best_val_loss":0.35,"best_epoch":3,"confusion":[[5,1],[0,4]],"stopped":"completed","seconds":3.2,"run":"fit","model":"mlp","classes":["<b>cat</b>","dog & \"fox\""],"settings":{"epochs":3,"batch":32,"optimizer":"adam","lr":0.1}})"
    "\n";

RunLog parse(const std::string &text, const std::string &name = "run.jsonl") {
  std::istringstream in(text);
  return parseRunLog(name, in);
}

std::string parseError(const std::string &text) {
  return errorOf([&] { parse(text); });
}

/// How often `needle` occurs in `text`.
size_t count(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++n;
  return n;
}

/// The <g class="series"> element of `series` in run `run`: its points.
std::string seriesOf(const std::string &page, const std::string &chart,
                     size_t run, const std::string &series) {
  size_t at = page.find("data-chart=\"" + chart + "\"");
  EXPECT_NE(at, std::string::npos) << "no chart " << chart;
  size_t end = page.find("</figure>", at);
  std::string figure = page.substr(at, end - at);
  std::string head =
      "<g class=\"series\" data-run=\"" + std::to_string(run) + "\"";
  for (size_t g = figure.find(head); g != std::string::npos;
       g = figure.find(head, g + 1)) {
    size_t close = figure.find("</g>", g);
    std::string element = figure.substr(g, close - g);
    if (element.find("data-series=\"" + series + "\"") != std::string::npos)
      return element;
  }
  ADD_FAILURE() << "no series " << series << " of run " << run << " in "
                << chart;
  return "";
}

} // namespace

TEST(ReportLog, ReadsEpochsAndTheDoneEvent) {
  RunLog log = parse(kLog);
  EXPECT_EQ(log.name, "run.jsonl");
  ASSERT_EQ(log.periods.size(), 3u);
  EXPECT_EQ(log.periods[1]["train_loss"].get<double>(), 0.5);
  EXPECT_EQ(log.done["stopped"], "completed");
  EXPECT_FALSE(log.inSteps());
  EXPECT_EQ(log.classNames(),
            (std::vector<std::string>{"<b>cat</b>", "dog & \"fox\""}));
}

TEST(ReportLog, SkipsBlankLinesAndUnknownEvents) {
  RunLog log = parse("\n"
                     R"({"event":"start","x":1})"
                     "\n  \n"
                     R"({"event":"epoch","epoch":1,"train_loss":1})"
                     "\n");
  EXPECT_EQ(log.periods.size(), 1u);
  EXPECT_TRUE(log.done.is_null());
  EXPECT_TRUE(log.classNames().empty());
}

TEST(ReportLog, ClassNamesDefaultToIndices) {
  RunLog log = parse(
      R"({"event":"epoch","epoch":1,"train_loss":1})"
      "\n"
      R"({"event":"done","confusion":[[1,0,0],[0,1,0],[0,0,1]],"classes":["a"]})");
  EXPECT_EQ(log.classNames(), (std::vector<std::string>{"a", "1", "2"}));
}

TEST(ReportLog, StepRunsFromTheirSettings) {
  RunLog log =
      parse(R"({"event":"epoch","epoch":1,"step":5,"train_loss":1})"
            "\n"
            R"({"event":"done","settings":{"steps":10,"eval_every":5}})");
  EXPECT_TRUE(log.inSteps());
}

TEST(ReportLog, EmptyLogs) {
  EXPECT_NNRT_ERROR(parse(""), "run.jsonl: the log is empty");
  EXPECT_NNRT_ERROR(parse("\n \n\n"), "run.jsonl: the log is empty");
}

TEST(ReportLog, TruncatedOrGarbledLinesNameTheLine) {
  std::string text = kLog;
  // The second line cut in the middle, as a killed writer leaves it.
  std::string truncated = text.substr(0, text.find('\n') + 40);
  EXPECT_NNRT_ERROR(parse(truncated), "run.jsonl:2: not valid JSON at byte");
  EXPECT_NNRT_ERROR(parse(truncated), "truncated or corrupted line");
  EXPECT_NNRT_ERROR(parse(text + "\x01\x02garbage\n"),
                    "run.jsonl:5: not valid JSON");
  EXPECT_NNRT_ERROR(parse(R"({"event":"epoch","epoch":1} trailing)"),
                    "run.jsonl:1: not valid JSON");
  // Not UTF-8 inside a string.
  EXPECT_NNRT_ERROR(parse("{\"event\":\"epoch\",\"epoch\":1,\"x\":\"\xff\"}"),
                    "run.jsonl:1: not valid JSON");
}

TEST(ReportLog, LinesThatAreNotEvents) {
  EXPECT_EQ(parseError("[1, 2]\n"),
            "run.jsonl:1: not a log event (a JSON object with an \"event\" "
            "name)");
  EXPECT_NNRT_ERROR(parse(R"({"epoch":1})"), "run.jsonl:1: not a log event");
  EXPECT_NNRT_ERROR(parse(R"({"event":3})"), "run.jsonl:1: not a log event");
  EXPECT_NNRT_ERROR(
      parse("\n"
            R"({"event":"epoch","train_loss":1})"),
      "run.jsonl:2: epoch event without a whole-number \"epoch\"");
  EXPECT_NNRT_ERROR(parse(R"({"event":"epoch","epoch":"one"})"),
                    "run.jsonl:1: epoch event without");
  EXPECT_NNRT_ERROR(parse(R"({"event":"epoch","epoch":1,"step":1.5})"),
                    "run.jsonl:1: epoch event whose \"step\"");
}

TEST(ReportLog, MalformedDoneEvents) {
  std::string epoch = R"({"event":"epoch","epoch":1,"train_loss":1})"
                      "\n";
  EXPECT_NNRT_ERROR(
      parse(epoch + R"({"event":"done","confusion":[[1,2],[3]]})"),
      "run.jsonl:2: done event whose \"confusion\" is not a "
      "square matrix of counts");
  EXPECT_NNRT_ERROR(
      parse(epoch + R"({"event":"done","confusion":[[1,-2],[3,4]]})"),
      "run.jsonl:2: done event whose \"confusion\"");
  EXPECT_NNRT_ERROR(parse(epoch + R"({"event":"done","confusion":7})"),
                    "run.jsonl:2: done event whose \"confusion\"");
  EXPECT_NNRT_ERROR(parse(epoch + R"({"event":"done","classes":[1,2]})"),
                    "run.jsonl:2: done event whose \"classes\"");
  EXPECT_NNRT_ERROR(parse(epoch + R"({"event":"done","settings":[]})"),
                    "run.jsonl:2: done event whose \"settings\"");
}

TEST(ReportLog, NoEpochEvents) {
  EXPECT_NNRT_ERROR(
      parse(R"({"event":"done","epochs":0,"stopped":"diverged"})"),
      "run.jsonl: no epoch or evaluation events");
}

TEST(ReportLog, Files) {
  TempDir dir;
  std::string path = dir.write("a.jsonl", kLog);
  EXPECT_EQ(readRunLog(path).periods.size(), 3u);
  EXPECT_EQ(readRunLog(path).name, path);
  EXPECT_NNRT_ERROR(readRunLog(dir.file("missing.jsonl")),
                    "missing.jsonl: cannot open the log: No such file");
  EXPECT_NNRT_ERROR(readRunLog(dir.path()), "is a folder, not a log file");
  EXPECT_NNRT_ERROR(readRunLog(dir.write("empty.jsonl", "")),
                    "empty.jsonl: the log is empty");
}

/// The report reads what the logger writes, line for line.
TEST(ReportLog, ReadsJsonlLoggerOutput) {
  TempDir dir;
  std::string path = dir.file("train.jsonl");
  {
    JsonlLogger logger(path);
    EpochRecord record;
    record.epoch = 1;
    record.step = 7;
    record.lr = 0.1;
    record.trainLoss = NAN; // logged as null
    record.valLoss = 0.4;
    record.metrics = {{"accuracy", 0.5}};
    logger.logEpoch(record);
    nlohmann::ordered_json done;
    done["confusion"] = std::vector<std::vector<int64_t>>{{1, 0}, {0, 1}};
    done["classes"] = std::vector<std::string>{"a", "b"};
    logger.logDone(done);
  }
  RunLog log = readRunLog(path);
  ASSERT_EQ(log.periods.size(), 1u);
  EXPECT_TRUE(log.periods[0]["train_loss"].is_null());
  EXPECT_EQ(log.classNames(), (std::vector<std::string>{"a", "b"}));
}

TEST(ReportHtml, Escapes) {
  EXPECT_EQ(escapeHtml(R"(<a href="x">&'y'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;y&#39;&lt;/a&gt;");
  EXPECT_EQ(escapeHtml("plain é"), "plain é");
}

TEST(ReportHtml, OnePointPerEpochAndTheConfusionMatrix) {
  ReportContent content;
  content.runs.push_back(parse(kLog, "runs/<one>.jsonl"));
  content.summary = "model mlp: input f32[4] <layers>";
  content.summaryTitle = "Model mlp";
  std::string page = renderReport(content);

  for (const auto &[chart, series] :
       std::vector<std::pair<std::string, std::string>>{
           {"loss", "train_loss"},
           {"loss", "val_loss"},
           {"accuracy", "accuracy"},
           {"lr", "lr"}}) {
    std::string g = seriesOf(page, chart, 0, series);
    EXPECT_NE(g.find("data-points=\"3\""), std::string::npos) << series;
    EXPECT_EQ(count(g, "<circle class=\"pt\""), 3u) << series;
  }
  // Validation dashed, training solid.
  EXPECT_NE(seriesOf(page, "loss", 0, "val_loss").find("stroke-dasharray"),
            std::string::npos);
  EXPECT_EQ(seriesOf(page, "loss", 0, "train_loss").find("stroke-dasharray"),
            std::string::npos);
  // Throughput and timings are not curves.
  EXPECT_EQ(page.find("data-chart=\"samples_per_s\""), std::string::npos);

  EXPECT_EQ(count(page, "<rect class=\"cell\""), 4u);
  for (const char *present : {
           "data-classes=\"2\"",
           "data-true=\"0\" data-predicted=\"1\" data-count=\"1\"",
           // Names from users are escaped wherever they appear.
           "&lt;b&gt;cat&lt;/b&gt;",
           "dog &amp; &quot;fox&quot;",
           "runs/&lt;one&gt;.jsonl",
           "&lt;layers&gt;",
           // Settings and final metrics.
           "<th>optimizer</th><td>adam</td>",
           "<th>accuracy</th><td>0.9</td>",
           "<th>best_val_loss</th><td>0.35</td>",
       })
    EXPECT_EQ(count(page, present) > 0, true) << present;
  // Unescaped names; anything to fetch or run.
  for (const char *absent :
       {"<b>", "<one>", "<script", "src=\"http", "href=\"http"})
    EXPECT_EQ(count(page, absent), 0u) << absent;
}

TEST(ReportHtml, OverlaidRunsAndGaps) {
  ReportContent content;
  content.runs.push_back(parse(kLog, "a.jsonl"));
  // A second run with a null (not finite) loss and no validation split.
  content.runs.push_back(
      parse(R"({"event":"epoch","epoch":1,"lr":0.1,"train_loss":2}
{"event":"epoch","epoch":2,"lr":0.1,"train_loss":null}
{"event":"epoch","epoch":3,"lr":0.1,"train_loss":1}
{"event":"epoch","epoch":4,"lr":0.1,"train_loss":0.5})",
            "b.jsonl"));
  std::string page = renderReport(content);
  EXPECT_NE(page.find("<code>a.jsonl</code>"), std::string::npos);
  EXPECT_NE(page.find("<code>b.jsonl</code>"), std::string::npos);
  std::string b = seriesOf(page, "loss", 1, "train_loss");
  EXPECT_NE(b.find("data-points=\"3\""), std::string::npos);
  EXPECT_EQ(count(b, "<circle class=\"pt\""), 3u);
  // The null splits the curve: epoch 1 alone draws no line, 3-4 one.
  EXPECT_EQ(count(b, "<polyline"), 1u);
  EXPECT_EQ(count(seriesOf(page, "lr", 1, "lr"), "<circle class=\"pt\""), 4u);
  // A colour per run: the curves of both runs have two colours in all.
  std::regex stroke("<g class=\"series\"[^>]*stroke=\"(#[0-9a-f]{6})\"");
  std::set<std::string> colours;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), stroke);
       it != std::sregex_iterator(); ++it)
    colours.insert((*it)[1].str());
  EXPECT_EQ(colours.size(), 2u);
  // Only a.jsonl has a confusion matrix.
  EXPECT_EQ(count(page, "<figure class=\"confusion\""), 1u);
}

TEST(ReportHtml, StepRunsAreDrawnOverSteps) {
  ReportContent content;
  content.runs.push_back(parse(
      R"({"event":"epoch","epoch":1,"step":50,"lr":0.1,"train_loss":2,"val_loss":2.1,"perplexity":8.2}
{"event":"epoch","epoch":2,"step":100,"lr":0.1,"train_loss":1.5,"val_loss":1.6,"perplexity":4.9}
{"event":"done","settings":{"steps":100,"eval_every":50}})",
      "lm.jsonl"));
  std::string page = renderReport(content);
  EXPECT_NE(page.find("class=\"xlabel\">step</text>"), std::string::npos);
  EXPECT_NE(page.find("data-x=\"100\""), std::string::npos);
  EXPECT_EQ(count(seriesOf(page, "perplexity", 0, "perplexity"),
                  "<circle class=\"pt\""),
            2u);
  EXPECT_NE(page.find("2 evaluations"), std::string::npos);
}

TEST(ReportHtml, WrittenAtomically) {
  TempDir dir;
  ReportContent content;
  content.runs.push_back(parse(kLog));
  std::string path = dir.file("report.html");
  writeReport(path, content);
  EXPECT_EQ(dir.list(), std::vector<std::string>{"report.html"});
  std::vector<uint8_t> bytes = readFile(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), renderReport(content));
  EXPECT_NNRT_ERROR(writeReport(dir.file("no/such/report.html"), content),
                    "report.html: cannot create a temporary file");
}

TEST(ReportHtml, TooManyClassesForAHeatMap) {
  nlohmann::json done = {{"event", "done"}};
  done["confusion"] = std::vector<std::vector<int>>(101, std::vector<int>(101));
  ReportContent content;
  content.runs.push_back(
      parse(std::string(R"({"event":"epoch","epoch":1,"train_loss":1})") +
            "\n" + done.dump()));
  std::string page = renderReport(content);
  EXPECT_EQ(count(page, "run.jsonl: 101 classes, too many to draw"), 1u);
  EXPECT_EQ(count(page, "<rect class=\"cell\""), 0u);
}
