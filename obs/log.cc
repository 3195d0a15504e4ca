#include "obs/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace tuphap::obs {
namespace {

// The sd-daemon(3) prefix of a level: what the journal reads the priority
// from (SD_DEBUG 7, SD_INFO 6, SD_WARNING 4, SD_ERR 3, SD_CRIT 2).
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char* p = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        p = "<7>";
        break;
      case spdlog::level::warn:
        p = "<4>";
        break;
      case spdlog::level::err:
        p = "<3>";
        break;
      case spdlog::level::critical:
        p = "<2>";
        break;
      default:
        break;
    }
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

std::function<std::string(std::string_view)>& Translator() {
  static std::function<std::string(std::string_view)> translate;
  return translate;
}

// The line's message, through the translator when one is set.
class Message final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (!Translator()) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    const std::string t = Translator()(text);
    dest.append(t.data(), t.data() + t.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<Message>();
  }
};

std::shared_ptr<spdlog::logger> MakeLogger() {
  // stderr_sink_mt writes each line with one fwrite and flushes it: a line
  // reaches the log when it is written (a crash swallows nothing said).
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("tuphap", std::move(sink));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (StderrIsJournal()) {
    formatter->add_flag<JournalPriority>('*').add_flag<Message>('&').set_pattern("%*%&");
  } else {
    // ISO 8601 with the offset, to the millisecond; then the level.
    formatter->add_flag<Message>('&').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %&");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::warn);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger>& Instance() {
  static std::shared_ptr<spdlog::logger> logger = MakeLogger();
  return logger;
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  for (const auto& [name, level] : kLogLevels) {
    if (text == name) return level;
  }
  return std::nullopt;
}

std::string LogLevelNames(std::string_view separator) {
  std::string out;
  for (const auto& [name, level] : kLogLevels) {
    if (!out.empty()) out += separator;
    out += name;
  }
  return out;
}

bool StderrIsJournal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (js == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

void InitLogging(LogLevel level) { Instance()->set_level(level); }

void SetLogTranslator(std::function<std::string(std::string_view)> translate) {
  Translator() = std::move(translate);
}

spdlog::logger& Log() { return *Instance(); }

}  // namespace tuphap::obs
