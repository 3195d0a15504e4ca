#include "node/domain/importer.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace tuphap::domain {
namespace {

struct Item {
  uint64_t line = 0;
  uint64_t bytes = 0;
  bool end = false;
  PreparedLine prepared;
};

// A bounded single-producer, single-consumer queue. The reader is faster
// than the writer, so the queue is mostly full: a producer that found it
// full is woken only once it has drained to half, and then refills it in
// one run, instead of a wake-up (a futex call and two context switches)
// for every line the writer takes.
class Queue {
 public:
  explicit Queue(size_t capacity) : capacity_(capacity) {}
  void Push(Item item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (items_.size() >= capacity_ && !closed_) {
      producer_waits_ = true;
      not_full_.wait(lock, [&] { return items_.size() <= capacity_ / 2 || closed_; });
      producer_waits_ = false;
    }
    if (closed_) return;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }
  Item Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    Item item = std::move(items_.front());
    items_.pop_front();
    if (producer_waits_ && items_.size() <= capacity_ / 2) not_full_.notify_one();
    return item;
  }
  // The consumer stops early: unblock the producer.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Item> items_;
  size_t capacity_;
  bool closed_ = false;
  bool producer_waits_ = false;
};

// Reads and prepares lines; a too-long line becomes a refusal.
Item ReadOne(const Registry& registry, LineReader& reader, std::string* buf) {
  Item item;
  while (true) {
    const LineReader::Got got = reader.Next(buf);
    if (got == LineReader::Got::kEnd) {
      item.end = true;
      return item;
    }
    if (buf->find_first_not_of(" \t") == std::string::npos)
      continue;  // blank lines are not records
    item.line = reader.line_number();
    item.bytes = reader.bytes_read();
    if (got == LineReader::Got::kTooLong) {
      item.prepared.problem =
          registry.validator().Make(ErrorClass::kMalformedJson, "", Msg::kNotJson,
                                    {"the line is longer than 1 MiB", "1048576"});
      return item;
    }
    item.prepared = registry.Prepare(*buf);
    return item;
  }
}

}  // namespace

Result<ImportSummary> Import(Registry& registry, LineReader& reader, const ImportOptions& options) {
  ImportSummary committed, pending;
  auto interrupted = [&] { return options.interrupted != nullptr && options.interrupted->load(); };
  auto merge = [](ImportSummary& into, ImportSummary& from) {
    into.accepted += from.accepted;
    into.refused += from.refused;
    into.duplicates += from.duplicates;
    for (auto& [k, v] : from.by_class) into.by_class[k] += v;
    from = ImportSummary{};
  };

  Queue queue(512);
  std::thread reader_thread;
  std::string buf;
  if (options.parallel) {
    reader_thread = std::thread([&] {
      std::string line;
      while (!queue.closed()) {
        Item item = ReadOne(registry, reader, &line);
        const bool end = item.end;
        queue.Push(std::move(item));
        if (end) break;
      }
    });
  }
  auto next = [&]() -> Item {
    return options.parallel ? queue.Pop() : ReadOne(registry, reader, &buf);
  };

  std::unique_ptr<store::Store::Session> session;
  uint64_t in_batch = 0;
  uint64_t committed_lines = 0;  // lines covered by committed batches
  Status failure;
  while (!interrupted()) {
    Item item = next();
    if (item.end) break;
    if (!session) {
      auto s = registry.node().BeginSession();
      if (!s.ok()) {
        failure = s.status();
        break;
      }
      session = std::move(s).value();
    }
    auto r = registry.Commit(*session, std::move(item.prepared));
    if (!r.ok()) {
      failure = r.status();
      break;
    }
    switch (r->outcome) {
      case LineResult::Outcome::kAccepted:
        ++pending.accepted;
        break;
      case LineResult::Outcome::kDuplicate:
        ++pending.duplicates;
        break;
      case LineResult::Outcome::kRefused:
        ++pending.refused;
        ++pending.by_class[std::string(ErrorClassName(r->problem->error_class))];
        if (options.refused) options.refused(item.line, *r->problem);
        break;
    }
    if (options.progress && item.line % 512 == 0) options.progress(item.bytes, item.line);
    if (++in_batch >= static_cast<uint64_t>(options.batch)) {
      in_batch = 0;
      if (options.all_or_nothing) {
        failure = session->Checkpoint();  // memory stays flat; nothing is committed yet
      } else {
        failure = session->Commit();
        session.reset();
        merge(committed, pending);
        committed_lines = item.line;
      }
      if (!failure.ok()) break;
    }
  }
  queue.Close();  // a reader blocked on a full queue gives up at once
  if (reader_thread.joinable()) reader_thread.join();
  TUPHAP_RETURN_IF_ERROR(failure);
  TUPHAP_RETURN_IF_ERROR(reader.error());
  if (interrupted()) {
    session.reset();  // the batch in flight is dropped whole
    committed.complete = false;
    committed.lines = committed_lines;
    return committed;
  } else if (options.all_or_nothing && pending.refused + committed.refused > 0) {
    session.reset();
    pending.accepted = 0;
    merge(committed, pending);
    committed.rolled_back = true;
  } else {
    if (session) TUPHAP_RETURN_IF_ERROR(session->Commit());
    merge(committed, pending);
  }
  committed.lines = reader.line_number();
  return committed;
}

}  // namespace tuphap::domain
