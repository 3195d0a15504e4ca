// The nine record types as data. Each type is one table below: its fields
// (kind, required, merge policy) and the rules between them. Person blocks
// repeat, so they come from one helper with the parts each role needs.
#include "node/domain/schema.h"

#include <map>
#include <memory>

#include "node/domain/reference_data.h"

namespace tuphap::domain {
namespace {

constexpr bool kReq = true;
constexpr bool kOpt = false;

class Builder {
 public:
  Builder(std::string type, std::string variant) {
    s_.type = std::move(type);
    s_.variant = std::move(variant);
  }

  Builder& F(std::string path, Kind kind, bool required, std::vector<std::string> choices = {}) {
    FieldSpec f;
    f.path = std::move(path);
    f.kind = kind;
    f.required = required;
    f.choices = std::move(choices);
    f.block = block_;
    // Benign fields take the latest value automatically; legal facts wait
    // for a person (issue: merge policy per field).
    const bool benign = kind == Kind::kNotes || f.path.ends_with(".residence") ||
                        f.path.ends_with(".address") || f.path.ends_with("payment_place");
    f.merge = benign ? Merge::kLatest : Merge::kAdjudicate;
    s_.fields.push_back(std::move(f));
    return *this;
  }
  // An object; `nullable` blocks may be null (an unknown parent).
  Builder& Block(std::string path, bool required, bool nullable = false) {
    F(path, Kind::kBlock, required);
    s_.fields.back().nullable = nullable;
    return *this;
  }
  // Fields added inside `fn` are skipped when `path` is absent or null.
  template <class Fn>
  Builder& Within(const std::string& path, Fn&& fn) {
    const std::string saved = block_;
    block_ = path;
    fn(*this);
    block_ = saved;
    return *this;
  }
  Builder& R(RuleKind kind, std::string a, std::string b = {}, int n = 0) {
    s_.rules.push_back(Rule{kind, std::move(a), std::move(b), n});
    return *this;
  }
  Builder& SearchName(std::string path) {
    s_.name_paths.push_back(std::move(path));
    return *this;
  }
  Builder& SearchId(std::string path) {
    s_.id_paths.push_back(std::move(path));
    return *this;
  }
  TypeSchema Take() { return std::move(s_); }

 private:
  TypeSchema s_;
  std::string block_;
};

struct PersonParts {
  bool names = true;  // family/middle/given/full required
  bool sex = true;
  bool birth_date = true;
  bool id_required = false;  // personal_id present and not null
  bool ethnicity = false;    // required
  bool nationality = false;  // required
  bool birth_place = false;  // a child: birth and native place
  bool occupation = false;   // a violator
};

// A person block at `p` (required or nullable) with its rules.
void Person(Builder& b, const std::string& p, bool required, const PersonParts& parts,
            const std::string& registered = "registered_at") {
  b.Block(p, required);
  b.Within(p, [&](Builder& w) {
    w.F(p + ".family_name", Kind::kNamePart, parts.names)
        .F(p + ".middle_name", Kind::kNamePart, kOpt)
        .F(p + ".given_name", Kind::kNamePart, parts.names)
        .F(p + ".full_name", Kind::kFullName, kReq)
        .F(p + ".sex", Kind::kEnum, parts.sex, {"M", "F"})
        .F(p + ".birth_date", Kind::kDate, parts.birth_date)
        .F(p + ".ethnicity", Kind::kText, parts.ethnicity)
        .F(p + ".nationality", Kind::kText, parts.nationality)
        .F(p + ".personal_id", Kind::kPersonalId, parts.id_required)
        .F(p + ".residence", Kind::kPlace, kOpt);
    if (parts.birth_place)
      w.F(p + ".birth_place", Kind::kPlace, kReq).F(p + ".native_place", Kind::kPlace, kOpt);
    if (parts.occupation) w.F(p + ".occupation", Kind::kText, kOpt);
  });
  b.R(RuleKind::kPersonId, p, p + ".sex")
      .R(RuleKind::kFullName, p)
      .R(RuleKind::kNotAfter, p + ".birth_date", registered)
      .SearchName(p + ".full_name")
      .SearchId(p + ".personal_id");
}

// A parent in a birth record: may be null; birth year instead of date.
void Parent(Builder& b, const std::string& p, const char* implied_sex) {
  b.Block(p, kOpt, /*nullable=*/true);
  b.Within(p, [&](Builder& w) {
    w.F(p + ".full_name", Kind::kFullName, kReq)
        .F(p + ".family_name", Kind::kNamePart, kOpt)
        .F(p + ".middle_name", Kind::kNamePart, kOpt)
        .F(p + ".given_name", Kind::kNamePart, kOpt)
        .F(p + ".birth_year", Kind::kYear, kOpt)
        .F(p + ".ethnicity", Kind::kText, kOpt)
        .F(p + ".nationality", Kind::kText, kOpt)
        .F(p + ".residence", Kind::kPlace, kOpt)
        .F(p + ".personal_id", Kind::kPersonalId, kOpt);
  });
  b.R(RuleKind::kPersonId, p, implied_sex)
      .R(RuleKind::kFullName, p)
      .SearchName(p + ".full_name")
      .SearchId(p + ".personal_id");
}

// A name with an ID and a relationship (declarant).
void Declarant(Builder& b, const std::string& p, bool required) {
  b.Block(p, required);
  b.Within(p, [&](Builder& w) {
    w.F(p + ".full_name", Kind::kPersonName, kReq)
        .F(p + ".personal_id", Kind::kPersonalId, kOpt)
        .F(p + ".relationship", Kind::kText, kOpt);
  });
  b.R(RuleKind::kPersonId, p, "");
}

void Officials(Builder& b, const std::string& d) {
  b.F(d + ".registrar", Kind::kPersonName, kOpt);
  b.Block(d + ".signer", kOpt);
  b.Within(d + ".signer", [&](Builder& w) {
    w.F(d + ".signer.full_name", Kind::kPersonName, kOpt).F(d + ".signer.title", Kind::kText, kOpt);
  });
}

// The record header every type shares.
void Header(Builder& b) {
  b.F("commune_code", Kind::kCommuneCode, kReq)
      .F("province_code", Kind::kProvinceCode, kOpt)
      .F("registered_at", Kind::kDate, kReq)
      .Block("book", kReq)
      .Within("book",
              [](Builder& w) {
                w.F("book.register", Kind::kEnum, kReq,
                    {"KS", "KT", "KH", "CMC", "GH", "TDCC", "XNHN", "XP"})
                    .F("book.book_no", Kind::kInt, kOpt)
                    .F("book.year", Kind::kYear, kReq)
                    .F("book.entry_no", Kind::kInt, kReq);
              })
      .F("version", Kind::kInt, kReq)
      .Block("data", kReq);
}

// Data fields of the event types that can be re-registered, under `d`
// ("data" or "data.event"), registered on `reg`.
void BirthData(Builder& b, const std::string& d, const std::string& reg) {
  PersonParts child;
  child.id_required = true;
  child.ethnicity = true;
  child.nationality = true;
  child.birth_place = true;
  Person(b, d + ".child", kReq, child, reg);
  Parent(b, d + ".mother", "F");
  Parent(b, d + ".father", "M");
  Declarant(b, d + ".declarant", kReq);
  Officials(b, d);
  b.F(d + ".notes", Kind::kNotes, kOpt);
}

void DeathData(Builder& b, const std::string& d, const std::string& reg) {
  Person(b, d + ".deceased", kReq, PersonParts{}, reg);
  b.F(d + ".death_datetime", Kind::kDateTime, kReq)
      .F(d + ".death_place", Kind::kPlace, kReq)
      .F(d + ".death_cause", Kind::kText, kOpt)
      .Block(d + ".death_notice", kOpt)
      .Within(d + ".death_notice", [&](Builder& w) {
        w.F(d + ".death_notice.issuer", Kind::kText, kOpt)
            .F(d + ".death_notice.number", Kind::kText, kOpt)
            .F(d + ".death_notice.date", Kind::kDate, kOpt);
      });
  Declarant(b, d + ".declarant", kOpt);
  Officials(b, d);
  b.F(d + ".notes", Kind::kNotes, kOpt)
      .R(RuleKind::kDeathAfterBirth, d + ".deceased.birth_date", d + ".death_datetime")
      .R(RuleKind::kNotAfter, d + ".death_datetime", reg)
      .R(RuleKind::kNotAfter, d + ".death_notice.date", reg);
}

void MarriageData(Builder& b, const std::string& d, const std::string& reg) {
  PersonParts spouse;
  spouse.id_required = true;
  Person(b, d + ".husband", kReq, spouse, reg);
  Person(b, d + ".wife", kReq, spouse, reg);
  Officials(b, d);
  b.F(d + ".notes", Kind::kNotes, kOpt)
      .R(RuleKind::kMinAge, d + ".husband", reg, 20)
      .R(RuleKind::kMinAge, d + ".wife", reg, 18)
      .R(RuleKind::kSexIs, d + ".husband", "M")
      .R(RuleKind::kSexIs, d + ".wife", "F");
  // A divorce or annulment is written into the marriage's entry (Law on
  // Civil Status art. 3: judgments are "ghi vào sổ"): the date it took
  // effect and the judgment or decision. The person rules read it.
  b.F(d + ".dissolved_on", Kind::kDate, kOpt)
      .F(d + ".dissolution", Kind::kText, kOpt)
      .R(RuleKind::kNotAfter, reg, d + ".dissolved_on");
}

std::vector<std::string> SectorKeys() {
  std::vector<std::string> keys;
  for (const char* k : {"an_ninh_trat_tu",
                        "bao_luc_gia_dinh",
                        "bao_ve_tre_em",
                        "binh_dang_gioi",
                        "dan_so",
                        "dat_dai",
                        "giao_duc",
                        "giao_thong_duong_bo",
                        "hanh_chinh_tu_phap",
                        "hon_nhan_gia_dinh",
                        "ke_toan",
                        "lao_dong",
                        "moi_truong",
                        "phi_le_phi",
                        "phong_chay_chua_chay",
                        "thong_ke",
                        "van_hoa",
                        "ve_sinh_moi_truong",
                        "xay_dung",
                        "y_te"}) {
    keys.emplace_back(k);
  }
  return keys;
}

std::vector<TypeSchema> BuildAll() {
  std::vector<TypeSchema> all;
  {
    Builder b("birth", "");
    Header(b);
    BirthData(b, "data", "registered_at");
    all.push_back(b.Take());
  }
  {
    Builder b("death", "");
    Header(b);
    DeathData(b, "data", "registered_at");
    all.push_back(b.Take());
  }
  {
    Builder b("marriage", "");
    Header(b);
    MarriageData(b, "data", "registered_at");
    all.push_back(b.Take());
  }
  {
    Builder b("parent_child_recognition", "");
    Header(b);
    b.F("data.relation", Kind::kEnum, kReq, {"father", "mother"});
    PersonParts p;
    Person(b, "data.parent", kReq, p);
    Person(b, "data.child", kReq, p);
    b.F("data.evidence", Kind::kText, kOpt);
    Officials(b, "data");
    b.F("data.notes", Kind::kNotes, kOpt);
    all.push_back(b.Take());
  }
  {
    Builder b("guardianship", "");
    Header(b);
    b.F("data.kind", Kind::kEnum, kReq, {"appointed", "statutory"});
    PersonParts p;
    Person(b, "data.ward", kReq, p);
    Person(b, "data.guardian", kReq, p);
    b.F("data.reason", Kind::kText, kOpt).F("data.start_date", Kind::kDate, kReq);
    Officials(b, "data");
    b.F("data.notes", Kind::kNotes, kOpt)
        .R(RuleKind::kMinAge, "data.guardian", "registered_at", 18);
    all.push_back(b.Take());
  }
  {
    Builder b("change_correction", "");
    Header(b);
    b.F("data.kind", Kind::kEnum, kReq,
        {"change", "correction", "supplement", "ethnicity_redetermination"});
    PersonParts p;
    Person(b, "data.subject", kReq, p);
    b.Block("data.original", kReq).Within("data.original", [](Builder& w) {
      w.F("data.original.register", Kind::kEnum, kReq,
          {"KS", "KT", "KH", "CMC", "GH", "TDCC", "XNHN", "XP"})
          .F("data.original.commune_code", Kind::kOldCommuneCode, kOpt)
          .F("data.original.year", Kind::kYear, kReq)
          .F("data.original.entry_no", Kind::kInt, kReq)
          .F("data.original.record_id", Kind::kText, kOpt);
    });
    b.F("data.field", Kind::kText, kReq)
        .F("data.old_value", Kind::kText, kOpt)
        .F("data.new_value", Kind::kText, kReq)
        .F("data.reason", Kind::kText, kOpt);
    Officials(b, "data");
    b.F("data.notes", Kind::kNotes, kOpt);
    all.push_back(b.Take());
  }
  {
    Builder b("marital_status_confirmation", "");
    Header(b);
    Person(b, "data.subject", kReq, PersonParts{});
    b.F("data.marital_status", Kind::kEnum, kReq,
        {"never_married", "divorced", "widowed", "married"})
        .F("data.purpose", Kind::kText, kOpt)
        .F("data.valid_until", Kind::kDate, kReq)
        .R(RuleKind::kNotAfter, "registered_at", "data.valid_until");
    Officials(b, "data");
    b.F("data.notes", Kind::kNotes, kOpt);
    all.push_back(b.Take());
  }
  for (const char* event : {"birth", "marriage", "death"}) {
    Builder b("re_registration", event);
    Header(b);
    b.F("data.event_type", Kind::kEnum, kReq, {"birth", "marriage", "death"})
        .F("data.original_registered_at", Kind::kDate, kReq)
        .F("data.original_place", Kind::kPlace, kOpt)
        .F("data.notes", Kind::kNotes, kOpt)
        .Block("data.event", kReq);
    const std::string reg = "data.original_registered_at";
    if (std::string_view(event) == "birth") BirthData(b, "data.event", reg);
    if (std::string_view(event) == "marriage") MarriageData(b, "data.event", reg);
    if (std::string_view(event) == "death") DeathData(b, "data.event", reg);
    b.R(RuleKind::kBefore2016, reg).R(RuleKind::kNotAfter, reg, "registered_at");
    all.push_back(b.Take());
  }
  for (const char* kind : {"individual", "organization"}) {
    Builder b("violation_decision", kind);
    Header(b);
    b.F("data.decision_no", Kind::kText, kReq)
        .F("data.decision_date", Kind::kDate, kReq)
        .F("data.issuing_authority", Kind::kText, kOpt);
    b.Block("data.signer", kOpt).Within("data.signer", [](Builder& w) {
      w.F("data.signer.full_name", Kind::kPersonName, kOpt)
          .F("data.signer.title", Kind::kText, kOpt);
    });
    b.F("data.violator_kind", Kind::kEnum, kReq, {"individual", "organization"});
    if (std::string_view(kind) == "individual") {
      PersonParts v;
      v.occupation = true;
      Person(b, "data.violator", kReq, v, "data.decision_date");
    } else {
      b.Block("data.violator", kReq).Within("data.violator", [](Builder& w) {
        w.F("data.violator.org_name", Kind::kText, kReq)
            .F("data.violator.enterprise_code", Kind::kEnterpriseCode, kOpt)
            .F("data.violator.address", Kind::kPlace, kOpt)
            .Block("data.violator.legal_representative", kOpt)
            .Within("data.violator.legal_representative", [](Builder& r) {
              r.F("data.violator.legal_representative.full_name", Kind::kPersonName, kOpt)
                  .F("data.violator.legal_representative.title", Kind::kText, kOpt);
            });
      });
      b.SearchName("data.violator.org_name").SearchId("data.violator.enterprise_code");
    }
    b.Block("data.violation_record", kOpt).Within("data.violation_record", [](Builder& w) {
      w.F("data.violation_record.number", Kind::kText, kOpt)
          .F("data.violation_record.date", Kind::kDate, kOpt);
    });
    b.Block("data.violation", kReq).Within("data.violation", [](Builder& w) {
      w.F("data.violation.description", Kind::kText, kReq)
          .F("data.violation.occurred_at", Kind::kDate, kReq)
          .F("data.violation.place", Kind::kPlace, kOpt)
          .F("data.violation.sector", Kind::kEnum, kReq, SectorKeys())
          .F("data.violation.legal_basis", Kind::kText, kOpt)
          .F("data.violation.fine_bracket_vnd", Kind::kIntList, kOpt);
    });
    b.F("data.aggravating", Kind::kTextList, kOpt)
        .F("data.mitigating", Kind::kTextList, kOpt)
        .F("data.principal_penalty", Kind::kEnum, kReq, {"warning", "fine"})
        .F("data.fine_amount_vnd", Kind::kMoney, kReq)
        .F("data.additional_penalties", Kind::kTextList, kOpt)
        .F("data.remedial_measures", Kind::kTextList, kOpt)
        .F("data.compliance_deadline", Kind::kDate, kOpt)
        .F("data.payment_place", Kind::kText, kOpt)
        .F("data.status", Kind::kEnum, kReq,
           {"issued", "paid", "overdue", "appealed", "enforced", "cancelled"})
        .F("data.paid_date", Kind::kDate, kOpt)
        .F("data.paid_amount_vnd", Kind::kMoney, kOpt)
        .F("data.notes", Kind::kNotes, kOpt)
        .R(RuleKind::kNotAfter, "data.violation.occurred_at", "data.decision_date")
        .R(RuleKind::kNotAfter, "data.violation_record.date", "data.decision_date")
        .R(RuleKind::kNotAfter, "data.decision_date", "data.compliance_deadline")
        .R(RuleKind::kFine, "data")
        .SearchId("data.decision_no");
    all.push_back(b.Take());
  }
  return all;
}

}  // namespace

const std::vector<TypeSchema>& AllSchemas() {
  static const std::vector<TypeSchema> all = [] {
    std::vector<TypeSchema> v = BuildAll();
    for (auto& s : v)
      s.BuildIndex();  // after the vector stops moving: the maps point into `fields`
    return v;
  }();
  return all;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNamePart:
      return "name part";
    case Kind::kFullName:
      return "full name";
    case Kind::kPersonName:
      return "person name";
    case Kind::kText:
      return "text";
    case Kind::kPlace:
      return "place";
    case Kind::kNotes:
      return "notes";
    case Kind::kDate:
      return "date";
    case Kind::kDateTime:
      return "date-time";
    case Kind::kInt:
      return "integer";
    case Kind::kYear:
      return "year";
    case Kind::kMoney:
      return "VND";
    case Kind::kEnum:
      return "one of";
    case Kind::kCommuneCode:
      return "commune code";
    case Kind::kOldCommuneCode:
      return "historic commune code";
    case Kind::kProvinceCode:
      return "province code";
    case Kind::kPersonalId:
      return "personal ID";
    case Kind::kEnterpriseCode:
      return "enterprise code";
    case Kind::kTextList:
      return "list of text";
    case Kind::kIntList:
      return "list of integers";
    case Kind::kBlock:
      return "object";
  }
  return "?";
}

std::string_view MergeName(Merge merge) {
  return merge == Merge::kAdjudicate ? "adjudicate" : "latest";
}

void TypeSchema::BuildIndex() {
  index_.clear();
  children_.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view path = fields[i].path;
    index_.emplace(path, static_cast<int>(i));
    const size_t dot = path.rfind('.');
    const std::string_view parent =
        dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
    children_[parent].insert(dot == std::string_view::npos ? path : path.substr(dot + 1));
  }
  for (auto& f : fields) {
    const size_t dot = f.path.rfind('.');
    f.parent_index =
        dot == std::string::npos ? -1 : IndexOf(std::string_view(f.path).substr(0, dot));
    f.block_index = f.block.empty() ? -1 : IndexOf(f.block);
  }
}

int TypeSchema::IndexOf(std::string_view path) const {
  auto it = index_.find(path);
  return it == index_.end() ? -1 : it->second;
}

const FieldSpec* TypeSchema::Find(std::string_view path) const {
  const int i = IndexOf(path);
  return i < 0 ? nullptr : &fields[static_cast<size_t>(i)];
}

const std::unordered_set<std::string_view>* TypeSchema::ChildKeys(std::string_view block) const {
  auto it = children_.find(block);
  return it == children_.end() ? nullptr : &it->second;
}

const std::vector<std::string>& RecordTypes() {
  static const std::vector<std::string> types = {"birth",
                                                 "death",
                                                 "marriage",
                                                 "parent_child_recognition",
                                                 "guardianship",
                                                 "change_correction",
                                                 "marital_status_confirmation",
                                                 "re_registration",
                                                 "violation_decision"};
  return types;
}

bool IsRecordType(std::string_view type) {
  for (const auto& t : RecordTypes()) {
    if (t == type) return true;
  }
  return false;
}

std::string_view RegisterOf(std::string_view type, std::string_view event_type) {
  if (type == "re_registration") type = event_type;
  static const std::map<std::string, std::string, std::less<>> kRegisters = {
      {"birth", "KS"},
      {"death", "KT"},
      {"marriage", "KH"},
      {"parent_child_recognition", "CMC"},
      {"guardianship", "GH"},
      {"change_correction", "TDCC"},
      {"marital_status_confirmation", "XNHN"},
      {"violation_decision", "XP"}};
  auto it = kRegisters.find(type);
  return it == kRegisters.end() ? std::string_view() : std::string_view(it->second);
}

const TypeSchema* SchemaFor(std::string_view type, const Json& doc) {
  std::string_view variant;
  const Json* data = doc.Find("data");
  if (type == "violation_decision") {
    const Json* kind = data != nullptr ? data->Find("violator_kind") : nullptr;
    variant = kind != nullptr && kind->is_string() && kind->as_string() == "organization"
                  ? "organization"
                  : "individual";
  } else if (type == "re_registration") {
    const Json* ev = data != nullptr ? data->Find("event_type") : nullptr;
    variant = ev != nullptr && ev->is_string() &&
                      (ev->as_string() == "marriage" || ev->as_string() == "death")
                  ? std::string_view(ev->as_string())
                  : "birth";
  }
  for (const auto& s : AllSchemas()) {
    if (s.type == type && s.variant == variant) return &s;
  }
  return nullptr;
}

const FieldSpec* FindField(std::string_view type, std::string_view path) {
  for (const auto& s : AllSchemas()) {
    if (s.type != type) continue;
    if (const FieldSpec* f = s.Find(path)) return f;
  }
  return nullptr;
}

bool IsLineOnlyKey(std::string_view key) {
  return key == "seq" || key == "op" || key == "schema" || key == "type" || key == "record_id" ||
         key.starts_with("expect_");
}

}  // namespace tuphap::domain
