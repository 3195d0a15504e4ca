// `tuphap person show`: one person's records by personal ID (the person
// index), what the records show of their marital status, and the person
// conflicts they are in. `tuphap index rebuild|check`: the derived indexes
// (search, person index, person conflicts) rebuilt from the records, or
// compared with a rebuild.
#include <algorithm>
#include <iterator>
#include <map>
#include <ostream>
#include <vector>

#include "cli/commands.h"
#include "cli/format.h"
#include "node/domain/dates.h"
#include "node/domain/person_rules.h"

namespace tuphap::cli {

std::string DescribeMaritalRecord(const Context& ctx, const domain::MaritalRecord& m) {
  static const std::map<std::string, std::pair<const char*, const char*>> kStatus = {
      {"never_married",
       {"never married (no marriage on record)", "chưa kết hôn (không có hồ sơ kết hôn)"}},
      {"married", {"married", "đang có vợ hoặc chồng"}},
      {"divorced", {"divorced", "đã ly hôn"}},
      {"widowed", {"widowed", "vợ hoặc chồng đã chết"}}};
  const auto it = kStatus.find(m.status);
  std::string text = Tr(ctx, "records on this node: ", "hồ sơ tại máy này: ");
  text += it != kStatus.end() ? Tr(ctx, it->second.first, it->second.second) : m.status;
  for (size_t i = 0; i < m.marriages.size(); ++i) {
    text += (i == 0 ? " — " : ", ") + m.marriages[i].record_id + " (" + m.marriages[i].date + ")";
  }
  if (m.deceased) {
    text += Tr(ctx, "; recorded dead on ", "; đã đăng ký khai tử, chết ngày ") + m.deceased->date +
            " (" + m.deceased->record_id + ")";
  }
  return text;
}

void RegisterPersonCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* person = app.add_subcommand("person", "One person's records, by 12-digit personal ID");
  person->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto on = std::make_shared<std::string>();
  CLI::App* show = person->add_subcommand(
      "show", "Every record naming the person, their marital status on record, their conflicts");
  show->add_option("personal_id", *id, "12-digit personal ID")->required();
  show->add_option("--on", *on, "marital status as of this date (default today)");
  show->callback([&ctx, action, id, on] {
    *action = [&ctx, id, on]() -> Status {
      if (id->size() != 12 || id->find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument(
            Tr(ctx, "personal ID '" + *id + "' is not 12 digits",
               "số định danh cá nhân '" + *id + "' không phải 12 chữ số"));
      }
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      std::string date = *on;
      if (date.empty()) {
        date = domain::VietnamDate(n->options().clock->WallMillis()).ToString();
      } else if (!domain::ParseDateOrNull(date)) {
        return Status::InvalidArgument(Tr(ctx, "--on '" + date + "' is not a date (YYYY-MM-DD)",
                                          "--on '" + date + "' không phải ngày (YYYY-MM-DD)"));
      }
      store::ReadSnapshot snapshot(n->store());
      const store::PersonRowsOf rows_of = [&](std::string_view p) {
        return n->store().PersonRows(p, /*ruled_only=*/true);
      };
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> rows, n->store().PersonRows(*id));
      TUPHAP_ASSIGN_OR_RETURN(domain::MaritalRecord marital,
                              domain::MaritalStatusOnRecord(*id, date, rows_of));
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> all,
                              n->store().PersonConflicts());
      std::vector<store::PersonConflictRow> conflicts;
      for (auto& c : all)
        if (c.personal_id == *id) conflicts.push_back(std::move(c));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("personal_id", *id);
        Json records = Json::MakeArray();
        for (const auto& r : rows) {
          Json o = Json::MakeObject();
          o.Set("record_id", r.record_id);
          o.Set("scope", r.scope);
          o.Set("type", r.type);
          o.Set("role", r.role);
          o.Set("field", r.field);
          o.Set("date", r.date);
          o.Set("revoked", r.revoked);
          records.Push(std::move(o));
        }
        j.Set("records", std::move(records));
        Json m = Json::MakeObject();
        m.Set("on", date);
        m.Set("status", marital.status);
        Json marriages = Json::MakeArray();
        for (const auto& r : marital.marriages) marriages.Push(Json(r.record_id));
        m.Set("marriages", std::move(marriages));
        if (marital.deceased) m.Set("deceased", marital.deceased->record_id);
        j.Set("marital_status_on_record", std::move(m));
        Json list = Json::MakeArray();
        for (const auto& c : conflicts) {
          Json o = Json::MakeObject();
          o.Set("rule", c.rule);
          o.Set("record_id", c.record_id);
          o.Set("scope", c.scope);
          o.Set("other_id", c.other_id);
          o.Set("other_scope", c.other_scope);
          list.Push(std::move(o));
        }
        j.Set("person_conflicts", std::move(list));
        ctx.PrintJson(j);
        return Status::Ok();
      }
      if (rows.empty()) {
        *ctx.out << Tr(ctx, "no record names personal ID " + *id,
                       "không có hồ sơ nào ghi số định danh cá nhân " + *id)
                 << '\n';
        return Status::Ok();
      }
      Table t({"record", "commune", "type", "role", "date", ""});
      for (const auto& r : rows) {
        t.Add({r.record_id, r.scope, r.type, r.role, r.date,
               r.revoked ? Tr(ctx, "revoked", "đã hủy") : ""});
      }
      t.Print(*ctx.out);
      if (rows.size() >= store::kMaxPersonEntries) {
        *ctx.out << Tr(ctx, "(the first " + std::to_string(rows.size()) + " records only)",
                       "(chỉ " + std::to_string(rows.size()) + " hồ sơ đầu tiên)")
                 << '\n';
      }
      *ctx.out << DescribeMaritalRecord(ctx, marital) << " (" << date << ")\n";
      for (const auto& c : conflicts) {
        *ctx.out << Tr(ctx, "person conflict ", "xung đột nhân thân ") << c.rule << ": "
                 << c.record_id << " (" << c.scope << ") / " << c.other_id << " (" << c.other_scope
                 << ")\n";
      }
      return Status::Ok();
    };
  });

  CLI::App* index = app.add_subcommand(
      "index", "The indexes derived from the records: search, person index, person conflicts");
  index->require_subcommand(1);
  CLI::App* rebuild = index->add_subcommand(
      "rebuild", "Rebuild them from the records (one transaction: writers wait while it runs)");
  rebuild->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      TUPHAP_RETURN_IF_ERROR(n->store().Reindex());
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> conflicts,
                              n->store().PersonConflicts());
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("rebuilt", true);
        j.Set("person_conflicts", static_cast<int64_t>(conflicts.size()));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "indexes rebuilt; ", "đã dựng lại chỉ mục; ") << conflicts.size()
                 << Tr(ctx, " person conflicts", " xung đột nhân thân") << '\n';
      }
      return Status::Ok();
    };
  });
  CLI::App* check = index->add_subcommand(
      "check",
      "Compare the person index and conflicts with a rebuild (changes nothing; writers wait "
      "while it runs, like a rebuild)");
  check->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      TUPHAP_ASSIGN_OR_RETURN(std::string kept, n->store().PersonIndexDump());
      TUPHAP_ASSIGN_OR_RETURN(std::string rebuilt, n->store().RebuiltPersonIndexDump());
      // The first entry one has and the other lacks, to say where.
      std::string first;
      if (kept != rebuilt) {
        auto lines = [](const std::string& text) {
          std::vector<std::string_view> out;
          size_t at = 0;
          while (at < text.size()) {
            const size_t end = text.find('\n', at);
            out.push_back(std::string_view(text).substr(at, end - at));
            at = end == std::string::npos ? text.size() : end + 1;
          }
          std::sort(out.begin(), out.end());
          return out;
        };
        const auto a = lines(kept), b = lines(rebuilt);
        std::vector<std::string_view> only_kept, only_rebuilt;
        std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_kept));
        std::set_difference(b.begin(), b.end(), a.begin(), a.end(),
                            std::back_inserter(only_rebuilt));
        if (!only_rebuilt.empty()) {
          first = Tr(ctx, "missing: ", "thiếu: ") + std::string(only_rebuilt.front());
        } else if (!only_kept.empty()) {
          first = Tr(ctx, "not in a rebuild: ", "không có trong bản dựng lại: ") +
                  std::string(only_kept.front());
        }
      }
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("equal", kept == rebuilt);
        if (!first.empty()) j.Set("first_difference", first);
        ctx.PrintJson(j);
      } else if (kept == rebuilt) {
        *ctx.out << Tr(ctx, "the person index equals a rebuild",
                       "chỉ mục nhân thân khớp với bản dựng lại")
                 << '\n';
      }
      if (kept != rebuilt) {
        return Status::Corruption(
                   Tr(ctx, "the person index differs from a rebuild; run 'tuphap index rebuild'",
                      "chỉ mục nhân thân khác bản dựng lại; hãy chạy 'tuphap index rebuild'"))
            .Annotate(first);
      }
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
