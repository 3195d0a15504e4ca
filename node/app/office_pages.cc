// The Office's services that only the officers' web pages need: whether a
// record's last local change has reached the hub, today's registrations,
// and the check of a record as the officer types it (office.h).
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "node/app/office.h"
#include "node/domain/dates.h"
#include "node/domain/record_json.h"
#include "node/domain/reference_data.h"
#include "node/trust.h"
#include "replication/certificate.h"

namespace tuphap::app {
namespace {

std::string TextOf(const Json* j) {
  return j != nullptr && j->is_string() ? j->as_string() : std::string();
}

bool Blank(const Json* j) {
  return j == nullptr || j->is_null() || (j->is_string() && j->as_string().empty());
}

std::string Parent(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

std::string Leaf(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

// A value for a required field nobody has typed yet that passes the rules
// on its own: dates far enough back for the age and re-registration rules,
// a wife's or mother's sex female.
Json StandIn(const domain::FieldSpec& f, const std::string& registered_at) {
  using domain::Kind;
  const std::string leaf = Leaf(f.path);
  switch (f.kind) {
    case Kind::kDate:
      if (leaf == "birth_date") return Json("1990-01-01");
      if (leaf == "original_registered_at") return Json("2000-01-01");
      return Json(registered_at);
    case Kind::kDateTime:
      return Json("2000-01-01T00:00");
    case Kind::kInt:
    case Kind::kYear:
      return Json(int64_t{leaf == "birth_year" || leaf == "year" ? 1990 : 1});
    case Kind::kMoney:
      return Json(int64_t{0});
    case Kind::kEnum: {
      if (leaf == "sex") {
        const std::string who = Leaf(Parent(f.path));
        return Json(who == "wife" || who == "mother" ? "F" : "M");
      }
      if (leaf == "principal_penalty") return Json("warning");
      return Json(f.choices.empty() ? std::string() : f.choices.front());
    }
    case Kind::kCommuneCode:
    case Kind::kOldCommuneCode:
      return Json("00004");
    case Kind::kProvinceCode:
      return Json("01");
    case Kind::kEnterpriseCode:
      return Json("0100000000");
    case Kind::kTextList:
    case Kind::kIntList:
      return Json::MakeArray();
    case Kind::kBlock:
      return Json::MakeObject();
    case Kind::kPersonalId:
      return Json("001090000001");  // fixed up by FixStandInIds
    default:
      return Json("A");
  }
}

// A stand-in personal ID that agrees with the person's birth year and sex
// as far as the draft gives them.
void FixStandInId(Json* doc, const std::string& id_path) {
  const std::string person = Parent(id_path);
  int year = 1990;
  const std::string birth = TextOf(domain::JsonAt(*doc, person + ".birth_date"));
  if (birth.size() >= 4) year = std::atoi(birth.substr(0, 4).c_str());
  if (const Json* y = domain::JsonAt(*doc, person + ".birth_year"); y != nullptr && y->is_int())
    year = static_cast<int>(y->as_int());
  if (year < 1900 || year > 2099) year = 1990;
  std::string sex = TextOf(domain::JsonAt(*doc, person + ".sex"));
  const std::string who = Leaf(person);
  if (sex.empty()) sex = who == "mother" || who == "wife" ? "F" : "M";
  const int digit = (year / 100 - 19) * 2 + (sex == "F" ? 1 : 0);
  char id[16];
  std::snprintf(id, sizeof id, "001%d%02d000001", digit, year % 100);
  domain::SetJsonAt(doc, id_path, Json(std::string(id)));
}

// The fields a rule of class `c` reported at `field` may have read, as
// sibling names in the field's block; empty: any date of the draft.
bool ReadsStandIn(domain::ErrorClass c, const std::string& field,
                  const std::set<std::string>& stand_ins) {
  using domain::ErrorClass;
  auto sibling = [&](std::initializer_list<const char*> names) {
    const std::string block = Parent(field);
    for (const char* n : names) {
      if (stand_ins.count(block + "." + n) > 0) return true;
    }
    return false;
  };
  auto any_date = [&] {
    for (const std::string& p : stand_ins) {
      const std::string leaf = Leaf(p);
      if (leaf.find("date") != std::string::npos || leaf.ends_with("_at") ||
          leaf == "valid_until" || leaf == "compliance_deadline" || leaf == "dissolved_on")
        return true;
    }
    return false;
  };
  switch (c) {
    case ErrorClass::kIdCenturySexMismatch:
    case ErrorClass::kIdBirthYearMismatch:
      return sibling({"sex", "birth_date", "birth_year"});
    case ErrorClass::kNameInconsistent:
      return sibling({"family_name", "middle_name", "given_name", "full_name"});
    case ErrorClass::kDeathBeforeBirth:
    case ErrorClass::kChronology:
    case ErrorClass::kAgeRule:
    case ErrorClass::kLimitationExpired:
      return any_date();
    case ErrorClass::kFineOutOfRange:
    case ErrorClass::kFineExceedsAuthority:
    case ErrorClass::kPenaltyInconsistent:
      return stand_ins.count("data.fine_amount_vnd") > 0 ||
             stand_ins.count("data.principal_penalty") > 0 ||
             stand_ins.count("data.violation.sector") > 0;
    default:
      return false;
  }
}

}  // namespace

Result<Office::HubState> Office::RecordHubState(const store::RecordView& record) {
  const crdt::ReplicaId& self = info().id;
  uint64_t last = 0;
  for (const store::ChangeRef& c : record.history) {
    if (c.origin == self) last = std::max(last, c.seq);
  }
  if (last == 0) return HubState::kNoLocalChange;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::Node::PeerRow> peers, node_->Peers());
  const node::Trust* trust = node_->trust();
  for (const auto& p : peers) {
    // Another node of the commune (a secondary) holding the change is not
    // the hub holding it.
    if (trust != nullptr) {
      const replication::Certificate* cert = trust->CertFor(p.peer);
      if (cert != nullptr && cert->role != replication::NodeRole::kHub) continue;
    }
    TUPHAP_ASSIGN_OR_RETURN(auto heads, node_->PeerHeads(p.peer));
    auto it = heads.find(store::FeedKey{self, record.scope});
    if (it != heads.end() && it->second >= last) return HubState::kReached;
  }
  return HubState::kWaiting;
}

Result<Office::HubHeads> Office::ReadHubHeads() {
  HubHeads out;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::Node::PeerRow> peers, node_->Peers());
  const node::Trust* trust = node_->trust();
  for (const auto& p : peers) {
    if (trust != nullptr) {
      const replication::Certificate* cert = trust->CertFor(p.peer);
      if (cert != nullptr && cert->role != replication::NodeRole::kHub) continue;
    }
    TUPHAP_ASSIGN_OR_RETURN(auto heads, node_->PeerHeads(p.peer));
    out.peers.push_back(std::move(heads));
  }
  return out;
}

std::string Office::ProvinceOf(std::string_view commune) {
  const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(commune);
  return c != nullptr ? c->province_code : std::string();
}

bool Office::IsHubPeer(const replication::PublicKey& peer) {
  const node::Trust* trust = node_->trust();
  const replication::Certificate* cert = trust != nullptr ? trust->CertFor(peer) : nullptr;
  return cert != nullptr && cert->role == replication::NodeRole::kHub;
}

Office::HubState Office::RecordHubState(const store::RecordView& record,
                                        const HubHeads& heads) const {
  const crdt::ReplicaId& self = info().id;
  uint64_t last = 0;
  for (const store::ChangeRef& c : record.history) {
    if (c.origin == self) last = std::max(last, c.seq);
  }
  if (last == 0) return HubState::kNoLocalChange;
  const store::FeedKey feed{self, record.scope};
  for (const auto& peer : heads.peers) {
    auto it = peer.find(feed);
    if (it != peer.end() && it->second >= last) return HubState::kReached;
  }
  return HubState::kWaiting;
}

std::string Office::NormalizeReferences(std::string_view query) {
  // A code, the year, the entry: "KS 2026/24", "ks-2026-24", "KS2026 24".
  static const std::regex kRef(
      R"((^|[^A-Za-z0-9])(ks|kt|kh|cmc|gh|tdcc|xnhn|xp)[ \-]*([0-9]{4})[ /\-]+([0-9]{1,6})(?![0-9]))",
      std::regex::icase);
  std::string out;
  std::string rest(query);
  std::smatch m;
  while (std::regex_search(rest, m, kRef)) {
    std::string code = m[2].str();
    for (char& ch : code) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string n = m[4].str();
    out += m.prefix().str() + m[1].str() + code + " " + m[3].str() + "/" +
           std::string(6 - n.size(), '0') + n;
    rest = m.suffix().str();
  }
  return out + rest;
}

Result<std::vector<store::RecordView>> Office::RegisteredOn(const std::string& date, size_t limit) {
  TUPHAP_ASSIGN_OR_RETURN(store::Store::DayRecords day, node_->store().RecordsOfDay(date, limit));
  return std::move(day.records);
}

Result<std::vector<domain::Problem>> Office::CheckDraft(std::string_view type, Json doc,
                                                        const std::vector<std::string>& touched) {
  if (!domain::IsRecordType(type))
    return Status::InvalidArgument("unknown record type \"" + std::string(type) + "\"");
  if (!doc.is_object()) doc = Json::MakeObject();
  const std::set<std::string> wanted(touched.begin(), touched.end());

  // The header, as Register fills it.
  doc.Set("op", "create");
  doc.Set("schema", 1);
  doc.Set("type", std::string(type));
  if (Blank(doc.Find("commune_code"))) doc.Set("commune_code", info().commune);
  const std::string commune = TextOf(doc.Find("commune_code"));
  if (doc.Find("province_code") == nullptr) {
    if (const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(commune))
      doc.Set("province_code", c->province_code);
  }
  if (Blank(doc.Find("registered_at"))) doc.Set("registered_at", Today());
  std::string registered_at = TextOf(doc.Find("registered_at"));
  if (!domain::ParseDateOrNull(registered_at)) registered_at = Today();
  doc.Set("version", 1);
  const std::string reg(domain::RegisterOf(type, TextOf(domain::JsonAt(doc, "data.event_type"))));
  const int year = std::atoi(registered_at.substr(0, 4).c_str());
  Json book = Json::MakeObject();
  book.Set("register", reg);
  book.Set("year", year);
  book.Set("entry_no", 1);
  doc.Set("book", std::move(book));
  char id[64];
  std::snprintf(id, sizeof id, "%s-%s-%d-000001", commune.c_str(), reg.c_str(), year);
  doc.Set("record_id", std::string(id));

  const domain::TypeSchema* schema = domain::SchemaFor(type, doc);
  if (schema == nullptr) return Status::InvalidArgument("no schema for " + std::string(type));
  std::set<std::string> stand_ins;
  auto stand_in = [&](const domain::FieldSpec& f) {
    domain::SetJsonAt(&doc, f.path, StandIn(f, registered_at));
    stand_ins.insert(f.path);
  };
  auto fill = [&] {
    for (const domain::FieldSpec& f : schema->fields) {
      if (!f.required) continue;
      if (!f.block.empty()) {
        const Json* b = domain::JsonAt(doc, f.block);
        if (b == nullptr || !b->is_object()) continue;
      }
      if (!Blank(domain::JsonAt(doc, f.path))) continue;
      if (wanted.count(f.path) > 0) continue;  // typed and emptied: missing, said below
      stand_in(f);
    }
    // Full names of stand-in parts, and IDs that agree with the person.
    for (const domain::FieldSpec& f : schema->fields) {
      if (f.kind != domain::Kind::kFullName || stand_ins.count(f.path) == 0) continue;
      const std::string p = Parent(f.path);
      std::string joined;
      for (const char* part : {".family_name", ".middle_name", ".given_name"}) {
        const std::string t = TextOf(domain::JsonAt(doc, p + part));
        if (!t.empty()) joined += (joined.empty() ? "" : " ") + t;
      }
      if (!joined.empty()) domain::SetJsonAt(&doc, f.path, Json(joined));
    }
    // Every stand-in ID, also one put in for a typed ID found wrong (the
    // person's other fields may have been typed since).
    for (const std::string& p : stand_ins) {
      const domain::FieldSpec* f = schema->Find(p);
      if (f != nullptr && f->kind == domain::Kind::kPersonalId) FixStandInId(&doc, p);
    }
  };
  fill();

  std::map<std::string, domain::Problem> found;
  const domain::Validator& v = registry().validator();
  // Each round takes the first problem away (a stand-in for the value), so
  // the classes after it are judged too; a problem a stand-in itself makes
  // ends the rounds.
  for (size_t round = 0; round < schema->fields.size(); ++round) {
    std::optional<domain::Problem> p = v.CheckRecord(doc, type);
    if (!p) break;
    const domain::FieldSpec* f = schema->Find(p->field);
    if (f == nullptr || stand_ins.count(p->field) > 0) break;
    if (wanted.count(p->field) > 0 && found.count(p->field) == 0 &&
        !ReadsStandIn(p->error_class, p->field, stand_ins)) {
      found.emplace(p->field, *p);
    }
    stand_in(*f);
    fill();
  }
  std::vector<domain::Problem> out;
  for (auto& [path, p] : found) out.push_back(std::move(p));
  return out;
}

}  // namespace tuphap::app
