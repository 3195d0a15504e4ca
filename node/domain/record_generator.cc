#include "node/domain/record_generator.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <map>
#include <set>

#include "base/json.h"
#include "base/random.h"
#include "base/utf8.h"
#include "node/domain/dates.h"
#include "node/domain/record_json.h"
#include "node/domain/reference_data.h"
#include "node/domain/schema.h"
#include "node/domain/vn_text.h"

namespace tuphap::domain {
namespace {

// Invented names in common Vietnamese forms (frequencies roughly as the
// usual estimates: Nguyễn first by far).
const char* const kFamily[] = {"Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần",     "Trần",
                               "Lê",     "Lê",     "Phạm",   "Hoàng",  "Huỳnh",    "Phan",
                               "Vũ",     "Võ",     "Đặng",   "Bùi",    "Đỗ",       "Hồ",
                               "Ngô",    "Dương",  "Lý",     "Đinh",   "Đào",      "Trịnh",
                               "Mai",    "Trương", "Lương",  "Hà",     "Tôn Thất", "Âu Dương"};
const char* const kMiddleM[] = {"Văn",   "Văn",  "Đức",  "Minh", "Quang", "Hữu",
                                "Thành", "Công", "Đình", "Quốc", "Gia"};
const char* const kMiddleF[] = {"Thị",  "Thị",    "Ngọc", "Thu",  "Thanh",
                                "Minh", "Phương", "Kim",  "Hồng", "Thùy"};
const char* const kGivenM[] = {"Anh",   "Minh",  "Hùng", "Dũng", "Tuấn", "Hải", "Nam",   "Long",
                               "Khang", "Huy",   "Phúc", "Bảo",  "Khoa", "Đức", "Thắng", "Quân",
                               "Hiếu",  "Trung", "Sơn",  "Tùng", "Đạt",  "Hưng"};
const char* const kGivenF[] = {"Linh", "Hương", "Lan",  "Hoa",   "Mai",    "Trang", "Ngọc", "Huyền",
                               "Thảo", "Hà",    "Anh",  "Nhung", "Phương", "Vy",    "Chi",  "Ngân",
                               "Yến",  "Thủy",  "Hằng", "Hạnh",  "Đào",    "Quỳnh"};
const char* const kEthnic[] = {"Kinh", "Kinh", "Kinh", "Kinh",  "Kinh",  "Kinh",
                               "Kinh", "Tày",  "Thái", "Mường", "Khmer", "Ê Đê"};
const char* const kStreets[] = {"Lê Lợi",      "Trần Hưng Đạo", "Nguyễn Trãi",   "Hai Bà Trưng",
                                "Quang Trung", "Hùng Vương",    "Điện Biên Phủ", "Phan Đình Phùng"};
const char* const kCauses[] = {"Bệnh già", "Bệnh tim",  "Đột quỵ",
                               "Ung thư",  "Viêm phổi", "Tai nạn giao thông"};

struct Violation {
  const char* sector;
  const char* description;
  int64_t lo, hi;
  bool warning_ok;
};
const Violation kViolations[] = {
    {"hanh_chinh_tu_phap", "Tẩy xóa, sửa chữa giấy tờ để làm thủ tục đăng ký kết hôn", 300'000,
     500'000, true},
    {"hanh_chinh_tu_phap", "Cam đoan không đúng về tình trạng hôn nhân", 1'000'000, 3'000'000,
     false},
    {"hanh_chinh_tu_phap", "Sử dụng giấy tờ của người khác để đăng ký hộ tịch", 1'000'000,
     3'000'000, false},
    {"an_ninh_trat_tu", "Gây mất trật tự ở nơi công cộng", 500'000, 1'000'000, true},
    {"bao_luc_gia_dinh", "Xúc phạm danh dự, nhân phẩm thành viên gia đình", 5'000'000, 10'000'000,
     false},
    {"phong_chay_chua_chay", "Không trang bị phương tiện chữa cháy theo quy định", 2'000'000,
     5'000'000, false},
};

struct Made {
  Json line;
  int version = 1;
};

// Known people of one commune (Gen::Observe).
struct Couple {
  Json husband, wife;  // their blocks in the marriage
  std::string record_id;
  std::string last;  // the latest line naming either, bad lines included
};
struct Single {  // married before, alive, not married again
  Json person;
  std::string last;
  bool widowed = false;  // else divorced
};
struct Death {
  Json data;  // deceased, death_datetime, death_place, death_notice
  std::string date;
};
struct People {
  std::vector<Json> children;   // of births
  std::vector<Death> deaths;    // each person once
  std::vector<Couple> couples;  // standing: both alive, not dissolved
  std::vector<Single> single;
};
constexpr size_t kPool = 1024;

class Gen {
 public:
  explicit Gen(const GeneratorOptions& o)
      : o_(o),
        rng_(o.seed * 0x9E3779B97F4A7C15ULL + 17),
        who_(o.seed * 0x9E3779B97F4A7C15ULL + 29) {
    from_ = ParseDateOrNull(o.from).value_or(Date{2025, 7, 1});
    to_ = ParseDateOrNull(o.to).value_or(Date{2026, 6, 30});
    classes_ = o.bad_classes.empty() ? GeneratedErrorClasses() : o.bad_classes;
  }

  void Run(const std::function<void(const std::string&)>& sink) {
    // Dates first, sorted: entry numbers then follow time, like a register.
    std::vector<std::pair<int64_t, int>> draws;
    const int64_t d0 = from_.DayNumber();
    const int64_t d1 = to_.DayNumber();
    for (int i = 0; i < o_.records; ++i)
      draws.emplace_back(
          d0 + static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(d1 - d0 + 1))), i);
    std::sort(draws.begin(), draws.end());
    const double edit_share = o_.records > 0 ? static_cast<double>(o_.edits) / o_.records : 0;
    int edits_left = o_.edits;
    uint64_t seq = 0;
    for (const auto& [day, i] : draws) {
      const std::string& commune = o_.communes[rng_.Uniform(o_.communes.size())];
      Json line = Create(commune, DateFromDayNumber(day));
      const bool bad = rng_.NextDouble() < o_.bad;
      // A bad line is broken from fresh people; only a valid one names
      // known people again as the rules allow.
      if (bad) {
        Corrupt(&line);
      } else {
        KnownPeople(&line);
      }
      line.Set("seq", static_cast<int64_t>(++seq));
      std::string text = line.Dump();
      if (bad) text = TextCorruption(line, std::move(text));
      sink(text);
      if (line.Find("expect_error")->is_null()) {
        last_valid_[JsonAt(line, "book.register")->as_string()] = line;
        Observe(line);
        Remember(std::move(line));
      }
      // Edits interleave: about edits/records per create.
      while (edits_left > 0 && !made_.empty() && rng_.NextDouble() < edit_share) {
        --edits_left;
        Json edit = Edit(DateFromDayNumber(day));
        edit.Set("seq", static_cast<int64_t>(++seq));
        sink(edit.Dump());
        if (edit_share < 1) break;
      }
    }
    // The draw left some edits over: they come last, so the count is exact.
    const Date last = draws.empty() ? from_ : DateFromDayNumber(draws.back().first);
    while (edits_left > 0 && !made_.empty()) {
      --edits_left;
      Json edit = Edit(last);
      edit.Set("seq", static_cast<int64_t>(++seq));
      sink(edit.Dump());
    }
  }

 private:
  // ---------------------------------------------------------------- people
  const char* Pick(const char* const* list, size_t n) { return list[rng_.Uniform(n)]; }
  template <size_t N>
  const char* Pick(const char* const (&list)[N]) {
    return Pick(list, N);
  }

  Date RandomDay(Date lo, Date hi) {
    const int64_t a = lo.DayNumber();
    const int64_t b = std::max(a, hi.DayNumber());
    return DateFromDayNumber(a +
                             static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(b - a + 1))));
  }
  // Born so that the age on `on` is in [min, max] completed years.
  Date BirthForAge(Date on, int min, int max) {
    Date hi = on;
    hi.year -= min;
    if (hi.month == 2 && hi.day == 29) hi.day = 28;
    Date lo = on;
    lo.year -= max + 1;
    if (lo.month == 2 && lo.day == 29) lo.day = 28;
    lo = DateFromDayNumber(lo.DayNumber() + 1);
    if (lo.year < 1900) lo = Date{1900, 1, 1};
    return RandomDay(lo, hi);
  }

  std::string Province3(const std::string& commune) {
    const CommuneInfo* c = ReferenceData::Get().Commune(commune);
    return "0" + (c != nullptr ? c->province_code : std::string("01"));
  }
  std::string PersonalId(const Date& birth, const std::string& sex, const std::string& prov3) {
    const int digit = (birth.year / 100 - 19) * 2 + (sex == "F" ? 1 : 0);
    char buf[32];
    while (true) {
      std::snprintf(buf, sizeof buf, "%s%d%02d%06llu", prov3.c_str(), digit, birth.year % 100,
                    static_cast<unsigned long long>(1 + rng_.Uniform(999999)));
      if (ids_.insert(buf).second) return buf;
    }
  }
  std::string Address(const std::string& commune) {
    const CommuneInfo* c = ReferenceData::Get().Commune(commune);
    const std::string place =
        c != nullptr ? c->name + ", " + c->province_name : std::string("Việt Nam");
    if (c != nullptr && c->division_type == "phường") {
      return "Số " + std::to_string(1 + rng_.Uniform(300)) + " đường " + Pick(kStreets) + ", " +
             place;
    }
    return "Thôn " + std::to_string(1 + rng_.Uniform(25)) + ", " + place;
  }

  Json Person(const std::string& commune, const std::string& sex, Date birth,
              const char* family = nullptr) {
    const std::string fam = family != nullptr ? family : Pick(kFamily);
    const std::string mid = sex == "F" ? Pick(kMiddleF) : Pick(kMiddleM);
    const std::string giv = sex == "F" ? Pick(kGivenF) : Pick(kGivenM);
    Json p = Json::MakeObject();
    p.Set("family_name", fam);
    p.Set("middle_name", mid);
    p.Set("given_name", giv);
    p.Set("full_name", fam + " " + mid + " " + giv);
    p.Set("sex", sex);
    p.Set("birth_date", birth.ToString());
    p.Set("ethnicity", Pick(kEthnic));
    p.Set("nationality", "VN");
    p.Set("personal_id", PersonalId(birth, sex, Province3(commune)));
    p.Set("residence", Address(commune));
    return p;
  }
  std::string Sex() { return rng_.OneIn(2) ? "M" : "F"; }
  Json Signer(const std::string& commune) {
    Json s = Json::MakeObject();
    s.Set("full_name", Officer(commune, 1));
    s.Set("title", "Chủ tịch Ủy ban nhân dân");
    return s;
  }
  // A stable officer name per commune and role.
  std::string Officer(const std::string& commune, int role) {
    Random r(std::hash<std::string>()(commune) + static_cast<uint64_t>(role));
    const bool f = r.OneIn(2);
    return std::string(kFamily[r.Uniform(std::size(kFamily))]) + " " +
           (f ? kMiddleF[r.Uniform(std::size(kMiddleF))]
              : kMiddleM[r.Uniform(std::size(kMiddleM))]) +
           " " +
           (f ? kGivenF[r.Uniform(std::size(kGivenF))] : kGivenM[r.Uniform(std::size(kGivenM))]);
  }
  Json Declarant(const Json& person, const char* relationship) {
    Json d = Json::MakeObject();
    d.Set("full_name", person.Find("full_name")->as_string());
    d.Set("personal_id", *person.Find("personal_id"));
    d.Set("relationship", relationship);
    return d;
  }
  Json AsParent(const Json& p) {
    Json out = Json::MakeObject();
    for (const char* k : {"full_name", "family_name", "middle_name", "given_name"})
      out.Set(k, *p.Find(k));
    out.Set("birth_year",
            static_cast<int64_t>(std::stoi(p.Find("birth_date")->as_string().substr(0, 4))));
    for (const char* k : {"ethnicity", "nationality", "residence", "personal_id"})
      out.Set(k, *p.Find(k));
    return out;
  }
  void Officials(Json* data, const std::string& commune) {
    data->Set("registrar", Officer(commune, 0));
    data->Set("signer", Signer(commune));
    data->Set("notes", "");
  }

  // ---------------------------------------------------------------- events
  Json BirthData(const std::string& commune, Date reg) {
    const Date birth =
        DateFromDayNumber(reg.DayNumber() - 1 - static_cast<int64_t>(rng_.Uniform(60)));
    Json father = Person(commune, "M", BirthForAge(birth, 21, 45));
    Json mother = Person(commune, "F", BirthForAge(birth, 18, 42));
    const std::string sex = Sex();
    Json child = Person(commune, sex, birth, father.Find("family_name")->as_string().c_str());
    const CommuneInfo* c = ReferenceData::Get().Commune(commune);
    child.Set("birth_place",
              "Trạm Y tế " + (c ? c->name + ", " + c->province_name : std::string("xã")));
    child.Set("native_place", c ? c->name + ", " + c->province_name : std::string("Việt Nam"));
    Json data = Json::MakeObject();
    data.Set("child", std::move(child));
    data.Set("mother", AsParent(mother));
    data.Set("father", rng_.OneIn(20) ? Json() : AsParent(father));
    data.Set("declarant", Declarant(mother, "Mẹ"));
    Officials(&data, commune);
    return data;
  }
  Json DeathData(const std::string& commune, Date reg) {
    const Date death = DateFromDayNumber(reg.DayNumber() - static_cast<int64_t>(rng_.Uniform(15)));
    Json data = Json::MakeObject();
    data.Set("deceased", Person(commune, Sex(), BirthForAge(death, 40, 95)));
    char time[8];
    std::snprintf(time, sizeof time, "T%02d:%02d", static_cast<int>(rng_.Uniform(24)),
                  static_cast<int>(rng_.Uniform(60)));
    data.Set("death_datetime", death.ToString() + time);
    data.Set("death_place", data.Find("deceased")->Find("residence")->as_string());
    data.Set("death_cause", Pick(kCauses));
    Json notice = Json::MakeObject();
    notice.Set("issuer", "Trạm Y tế xã");
    notice.Set("number", std::to_string(1 + rng_.Uniform(999)) + "/GBT");
    notice.Set("date", death.ToString());
    data.Set("death_notice", std::move(notice));
    Json kin = Person(commune, Sex(), BirthForAge(reg, 25, 60));
    data.Set("declarant", Declarant(kin, "Con"));
    Officials(&data, commune);
    return data;
  }
  Json MarriageData(const std::string& commune, Date reg) {
    Json data = Json::MakeObject();
    data.Set("husband", Person(commune, "M", BirthForAge(reg, 20, 40)));
    data.Set("wife", Person(commune, "F", BirthForAge(reg, 18, 36)));
    Officials(&data, commune);
    return data;
  }

  Json Create(const std::string& commune, Date reg) {
    static const std::pair<const char*, int> kMix[] = {{"birth", 460},
                                                       {"death", 200},
                                                       {"marriage", 140},
                                                       {"violation_decision", 100},
                                                       {"marital_status_confirmation", 50},
                                                       {"change_correction", 20},
                                                       {"re_registration", 15},
                                                       {"parent_child_recognition", 10},
                                                       {"guardianship", 5}};
    uint64_t roll = rng_.Uniform(1000);
    std::string type = "birth";
    for (const auto& [t, w] : kMix) {
      if (roll < static_cast<uint64_t>(w)) {
        type = t;
        break;
      }
      roll -= static_cast<uint64_t>(w);
    }
    Json data;
    std::string event_type;
    if (type == "birth") {
      data = BirthData(commune, reg);
    } else if (type == "death") {
      data = DeathData(commune, reg);
    } else if (type == "marriage") {
      data = MarriageData(commune, reg);
    } else if (type == "parent_child_recognition") {
      data = Json::MakeObject();
      const bool father = !rng_.OneIn(6);
      Json parent = Person(commune, father ? "M" : "F", BirthForAge(reg, 22, 55));
      data.Set("relation", father ? "father" : "mother");
      data.Set("child", Person(commune, Sex(), BirthForAge(reg, 0, 15),
                               parent.Find("family_name")->as_string().c_str()));
      data.Set("parent", std::move(parent));
      data.Set("evidence", "Kết quả giám định ADN");
      Officials(&data, commune);
    } else if (type == "guardianship") {
      data = Json::MakeObject();
      data.Set("kind", rng_.OneIn(2) ? "appointed" : "statutory");
      data.Set("ward", Person(commune, Sex(), BirthForAge(reg, 1, 16)));
      data.Set("guardian", Person(commune, Sex(), BirthForAge(reg, 25, 70)));
      data.Set("reason", "Cha mẹ đều đã chết");
      data.Set("start_date", reg.ToString());
      Officials(&data, commune);
    } else if (type == "change_correction") {
      data = Json::MakeObject();
      Json subject = Person(commune, Sex(), BirthForAge(reg, 1, 60));
      subject.Set("residence", Json());
      data.Set("kind", "correction");
      Json original = Json::MakeObject();
      original.Set("register", "KS");
      original.Set("commune_code", commune);
      original.Set("year", static_cast<int64_t>(
                               std::stoi(subject.Find("birth_date")->as_string().substr(0, 4))));
      original.Set("entry_no", static_cast<int64_t>(1 + rng_.Uniform(300)));
      original.Set("record_id", Json());
      data.Set("field", "given_name");
      data.Set("old_value", subject.Find("given_name")->as_string());
      data.Set("new_value",
               subject.Find("sex")->as_string() == "F" ? Pick(kGivenF) : Pick(kGivenM));
      data.Set("subject", std::move(subject));
      data.Set("original", std::move(original));
      data.Set("reason", "Sai sót khi đăng ký");
      Officials(&data, commune);
    } else if (type == "marital_status_confirmation") {
      data = Json::MakeObject();
      data.Set("subject", Person(commune, Sex(), BirthForAge(reg, 20, 60)));
      data.Set("marital_status", rng_.OneIn(5) ? "divorced" : "never_married");
      data.Set("purpose", "Để đăng ký kết hôn");
      data.Set("valid_until", DateFromDayNumber(reg.DayNumber() + 180).ToString());
      Officials(&data, commune);
    } else if (type == "re_registration") {
      event_type = rng_.OneIn(4) ? "marriage" : "birth";
      const Date original = RandomDay(Date{1975, 1, 1}, Date{2015, 12, 1});
      data = Json::MakeObject();
      data.Set("event_type", event_type);
      data.Set("original_registered_at", original.ToString());
      data.Set("original_place", "Ủy ban nhân dân xã (trước sắp xếp)");
      data.Set("event", event_type == "birth" ? BirthData(commune, original)
                                              : MarriageData(commune, original));
      data.Set("notes", "");
    } else {
      data = ViolationData(commune, reg);
    }
    const std::string_view reg_code = RegisterOf(type, event_type);
    int& counter =
        counters_[commune + "-" + std::string(reg_code) + "-" + std::to_string(reg.year)];
    const int entry = ++counter;
    if (type == "violation_decision") data.Set("decision_no", std::to_string(entry) + "/QĐ-XPHC");
    char id[64];
    std::snprintf(id, sizeof id, "%s-%s-%d-%06d", commune.c_str(), std::string(reg_code).c_str(),
                  reg.year, entry);
    Json line = Json::MakeObject();
    line.Set("seq", 0);
    line.Set("op", "create");
    line.Set("schema", 1);
    line.Set("type", type);
    line.Set("record_id", id);
    line.Set("commune_code", commune);
    const CommuneInfo* c = ReferenceData::Get().Commune(commune);
    line.Set("province_code", c != nullptr ? c->province_code : std::string("01"));
    line.Set("registered_at", reg.ToString());
    Json book = Json::MakeObject();
    book.Set("register", std::string(reg_code));
    book.Set("book_no", static_cast<int64_t>(1 + (entry - 1) / 200));
    book.Set("year", static_cast<int64_t>(reg.year));
    book.Set("entry_no", static_cast<int64_t>(entry));
    line.Set("book", std::move(book));
    line.Set("version", 1);
    line.Set("data", std::move(data));
    line.Set("expect_error", Json());
    return line;
  }

  Json ViolationData(const std::string& commune, Date reg) {
    const Violation& v = kViolations[rng_.Uniform(std::size(kViolations))];
    const bool org = rng_.OneIn(8);
    const Date occurred =
        DateFromDayNumber(reg.DayNumber() - static_cast<int64_t>(rng_.Uniform(8)));
    Json data = Json::MakeObject();
    data.Set("decision_no", "");
    data.Set("decision_date", reg.ToString());
    const CommuneInfo* c = ReferenceData::Get().Commune(commune);
    data.Set("issuing_authority", "Ủy ban nhân dân " + (c ? c->name : std::string("xã")));
    data.Set("signer", Signer(commune));
    data.Set("violator_kind", org ? "organization" : "individual");
    if (org) {
      Json o = Json::MakeObject();
      o.Set("org_name", std::string("Công ty TNHH ") + (rng_.OneIn(2) ? "Minh Phát" : "Thành Đạt"));
      char code[16];
      std::snprintf(code, sizeof code, "%010llu",
                    static_cast<unsigned long long>(100000000 + rng_.Uniform(899999999)));
      o.Set("enterprise_code", code);
      o.Set("address", Address(commune));
      Json rep = Json::MakeObject();
      rep.Set("full_name", Officer(commune + "org", 3));
      rep.Set("title", "Giám đốc");
      o.Set("legal_representative", std::move(rep));
      data.Set("violator", std::move(o));
    } else {
      Json p = Person(commune, rng_.OneIn(5) ? "F" : "M", BirthForAge(reg, 18, 70));
      p.Set("occupation", "Lao động tự do");
      data.Set("violator", std::move(p));
    }
    Json record = Json::MakeObject();
    record.Set("number", std::to_string(1 + rng_.Uniform(500)) + "/BB-VPHC");
    record.Set("date", occurred.ToString());
    data.Set("violation_record", std::move(record));
    Json violation = Json::MakeObject();
    violation.Set("description", v.description);
    violation.Set("occurred_at", occurred.ToString());
    violation.Set("place", Address(commune));
    violation.Set("sector", v.sector);
    violation.Set("legal_basis", "Nghị định 82/2020/NĐ-CP (minh họa)");
    const int64_t mult = org ? 2 : 1;
    Json bracket = Json::MakeArray();
    bracket.Push(v.lo * mult);
    bracket.Push(v.hi * mult);
    violation.Set("fine_bracket_vnd", std::move(bracket));
    data.Set("violation", std::move(violation));
    data.Set("aggravating", Json::MakeArray());
    data.Set("mitigating", Json::MakeArray());
    const bool warning = v.warning_ok && !org && rng_.OneIn(4);
    data.Set("principal_penalty", warning ? "warning" : "fine");
    data.Set("fine_amount_vnd", warning ? int64_t{0} : (v.lo + v.hi) / 2 * mult);
    data.Set("additional_penalties", Json::MakeArray());
    data.Set("remedial_measures", Json::MakeArray());
    data.Set("compliance_deadline", DateFromDayNumber(reg.DayNumber() + 10).ToString());
    data.Set("payment_place", "Kho bạc Nhà nước");
    data.Set("status", "issued");
    data.Set("notes", "");
    return data;
  }

  // --------------------------------------------------------- known people
  // Every valid line's people stay what the register says of them: a child
  // is registered once, a person dies once and is named alive by no later
  // record, and a husband or wife marries again only after the marriage
  // ended (the person rules, person_rules.h). Fresh people get fresh IDs
  // (PersonalId), so only these pools name someone twice: valid lines as the
  // rules allow, bad lines to break exactly one rule. Pools are per commune,
  // so a commune's lines hold together when the file is split by commune.
  void Observe(const Json& line) {
    const std::string type = line.Find("type")->as_string();
    People& p = people_[line.Find("commune_code")->as_string()];
    const Json& data = *line.Find("data");
    const std::string reg = line.Find("registered_at")->as_string();
    if (type == "birth") {
      Keep(p.children, *data.Find("child"));
    } else if (type == "death") {
      Death d;
      d.date = data.Find("death_datetime")->as_string().substr(0, 10);
      d.data = Json::MakeObject();
      for (const char* k : {"deceased", "death_datetime", "death_place", "death_notice"})
        d.data.Set(k, *data.Find(k));
      Keep(p.deaths, std::move(d));
    } else if (type == "marriage") {
      Keep(p.couples, Couple{*data.Find("husband"), *data.Find("wife"),
                             line.Find("record_id")->as_string(), reg});
    }
  }

  // Some valid lines name people the commune registered before.
  void KnownPeople(Json* line) {
    const std::string type = line->Find("type")->as_string();
    const std::string commune = line->Find("commune_code")->as_string();
    const Date reg = *ParseDateOrNull(line->Find("registered_at")->as_string());
    Json* data = line->Find("data");
    if (type == "birth") {
      KnownParents(commune, reg, data);
    } else if (type == "death") {
      SpouseDies(commune, reg, data);
    } else if (type == "marriage") {
      Remarriage(commune, reg, data);
    } else if (type == "marital_status_confirmation") {
      KnownRequester(commune, reg, data);
    }
  }

  // A couple of the commune as parents of a birth.
  void KnownParents(const std::string& commune, Date reg, Json* data) {
    People& p = people_[commune];
    if (p.couples.empty() || !who_.OneIn(4)) return;
    Couple& c = p.couples[who_.Uniform(p.couples.size())];
    data->Set("mother", AsParent(c.wife));
    data->Set("father", AsParent(c.husband));
    data->Set("declarant", Declarant(c.wife, "Mẹ"));
    Json* child = Mutable(*data, "child");
    const std::string family = c.husband.Find("family_name")->as_string();
    child->Set("family_name", family);
    child->Set("full_name", family + " " + child->Find("middle_name")->as_string() + " " +
                                child->Find("given_name")->as_string());
    c.last = std::max(c.last, reg.ToString());
  }

  // A husband or wife dies: the marriage ends, the survivor is widowed.
  void SpouseDies(const std::string& commune, Date reg, Json* data) {
    People& p = people_[commune];
    if (p.couples.empty() || !who_.OneIn(8)) return;
    const size_t i = who_.Uniform(p.couples.size());
    if (!(p.couples[i].last < reg.ToString())) return;
    Couple c = Take(p.couples, i);
    const bool husband = who_.OneIn(2);
    const Json& dead = husband ? c.husband : c.wife;
    const Json& survivor = husband ? c.wife : c.husband;
    // After every line that named them married, bad ones included: a death
    // dated on or before such a line would end the marriage for it, and the
    // line, refused in file order, would pass when the file comes again.
    const Date after = DateFromDayNumber(ParseDateOrNull(c.last)->DayNumber() + 1);
    const Date drawn = DateFromDayNumber(reg.DayNumber() - static_cast<int64_t>(who_.Uniform(15)));
    const std::string death = std::max(drawn, after).ToString();
    data->Set("deceased", dead);
    data->Set("death_datetime", death + data->Find("death_datetime")->as_string().substr(10));
    data->Set("death_place", *dead.Find("residence"));
    data->Set("death_cause",
              kCauses[1 + who_.Uniform(std::size(kCauses) - 1)]);  // not "Bệnh già": they are young
    Mutable(*data, "death_notice")->Set("date", death);
    data->Set("declarant", Declarant(survivor, husband ? "Vợ" : "Chồng"));
    Keep(p.single, Single{survivor, reg.ToString(), /*widowed=*/true});
  }

  // A widow(er) or divorcee marries again.
  void Remarriage(const std::string& commune, Date reg, Json* data) {
    People& p = people_[commune];
    if (p.single.empty() || !who_.OneIn(4)) return;
    const size_t i = who_.Uniform(p.single.size());
    // Strictly later than anything naming them: a confirmation of
    // "widowed" on the wedding day would count the new marriage against it.
    if (!(p.single[i].last < reg.ToString())) return;
    Single s = Take(p.single, i);
    const char* slot = s.person.Find("sex")->as_string() == "M" ? "husband" : "wife";
    data->Set(slot, std::move(s.person));
  }

  // A confirmation of what the records show: widowed or divorced for a
  // person whose marriage ended, married for a spouse.
  void KnownRequester(const std::string& commune, Date reg, Json* data) {
    People& p = people_[commune];
    if (!p.single.empty() && who_.OneIn(3)) {
      Single& s = p.single[who_.Uniform(p.single.size())];
      data->Set("subject", s.person);
      data->Set("marital_status", s.widowed ? "widowed" : "divorced");
      s.last = std::max(s.last, reg.ToString());
    } else if (!p.couples.empty() && who_.OneIn(6)) {
      Couple& c = p.couples[who_.Uniform(p.couples.size())];
      data->Set("subject", who_.OneIn(2) ? c.husband : c.wife);
      data->Set("marital_status", "married");
      data->Set("purpose", "Để bổ sung hồ sơ vay vốn");
      c.last = std::max(c.last, reg.ToString());
    }
  }

  // Pools are bounded: when full, a new entry replaces a random one (the
  // person dropped is simply not named again).
  template <class T>
  void Keep(std::vector<T>& pool, T item) {
    if (pool.size() < kPool) {
      pool.push_back(std::move(item));
    } else {
      pool[who_.Uniform(pool.size())] = std::move(item);
    }
  }
  template <class T>
  static T Take(std::vector<T>& pool, size_t i) {
    T out = std::move(pool[i]);
    if (i + 1 != pool.size()) pool[i] = std::move(pool.back());
    pool.pop_back();
    return out;
  }
  // The couple of a marriage record while their marriage stands, if it can
  // end on `date`: after every line that named them married (SpouseDies).
  Couple* CoupleToDivorce(const Json& marriage, const std::string& date) {
    People& p = people_[marriage.Find("commune_code")->as_string()];
    const std::string& id = marriage.Find("record_id")->as_string();
    for (Couple& c : p.couples)
      if (c.record_id == id) return c.last < date ? &c : nullptr;
    return nullptr;
  }
  // An earlier death of the commune dated before `reg`, or null.
  const Death* DeathBefore(const std::string& commune, const std::string& reg) {
    const std::vector<Death>& deaths = people_[commune].deaths;
    if (deaths.empty()) return nullptr;
    const size_t start = who_.Uniform(deaths.size());
    for (size_t k = 0; k < deaths.size(); ++k) {
      const Death& d = deaths[(start + k) % deaths.size()];
      if (d.date < reg) return &d;
    }
    return nullptr;
  }

  // ---------------------------------------------------------------- edits
  void Remember(Json line) {
    if (made_.size() >= 4096)
      made_[rng_.Uniform(made_.size())] = Made{std::move(line), 1};
    else
      made_.push_back(Made{std::move(line), 1});
  }

  Json Edit(Date when) {
    Made& m = made_[rng_.Uniform(made_.size())];
    Json& rec = m.line;
    const std::string type = rec.Find("type")->as_string();
    Json e = Json::MakeObject();
    e.Set("seq", 0);
    e.Set("op", "edit");
    e.Set("schema", 1);
    e.Set("type", type);
    e.Set("record_id", *rec.Find("record_id"));
    e.Set("commune_code", *rec.Find("commune_code"));
    char id[32];
    std::snprintf(id, sizeof id, "ED-%07d", ++edit_seq_);
    e.Set("edit_id", id);
    const std::string reg = rec.Find("registered_at")->as_string();
    e.Set("edited_at", std::max(reg, when.ToString()));
    Json changes = Json::MakeArray();
    std::string status =
        type == "violation_decision" ? JsonAt(rec, "data.status")->as_string() : "";
    const bool bad = rng_.NextDouble() < o_.bad;
    std::vector<ErrorClass> edit_classes;
    for (ErrorClass c : classes_) {
      if (c == ErrorClass::kUnknownRecord || c == ErrorClass::kImmutableField ||
          c == ErrorClass::kVersionConflict ||
          (c == ErrorClass::kStatusTransition && status == "issued")) {
        edit_classes.push_back(c);
      }
    }
    const ErrorClass cls = bad && !edit_classes.empty()
                               ? edit_classes[rng_.Uniform(edit_classes.size())]
                               : ErrorClass::kEncodingInvalid;
    const bool is_bad = bad && !edit_classes.empty();
    std::string reason = "Cải chính sai sót do ghi chép";
    auto change = [&](const std::string& path, const Json& new_value) {
      Json c = Json::MakeObject();
      c.Set("path", path);
      const Json* old = JsonAt(rec, path);
      c.Set("old", old != nullptr ? *old : Json());
      c.Set("new", new_value);
      changes.Push(std::move(c));
    };
    if (is_bad && cls == ErrorClass::kStatusTransition) {
      change("data.status", "enforced");  // issued -> enforced skips "overdue"
      e.Set("edit_kind", "status_change");
    } else if (type == "violation_decision" && status == "issued") {
      change("data.status", "paid");
      change("data.paid_date", e.Find("edited_at")->as_string());
      change("data.paid_amount_vnd", *JsonAt(rec, "data.fine_amount_vnd"));
      e.Set("edit_kind", "status_change");
    } else if (Couple* couple = is_bad || type != "marriage" || !who_.OneIn(3)
                                    ? nullptr
                                    : CoupleToDivorce(rec, e.Find("edited_at")->as_string());
               couple != nullptr) {
      // A divorce written into the marriage's entry: the two are single
      // again from that day (they may marry again, or confirm "divorced").
      const std::string on = e.Find("edited_at")->as_string();
      change("data.dissolved_on", on);
      change("data.dissolution", "Bản án ly hôn số " + std::to_string(1 + who_.Uniform(300)) + "/" +
                                     on.substr(0, 4) + "/HNGĐ-ST của Tòa án nhân dân khu vực");
      e.Set("edit_kind", "correction");
      reason = "Ghi vào sổ việc ly hôn theo bản án của Tòa án";
      People& p = people_[rec.Find("commune_code")->as_string()];
      Couple ended = Take(p.couples, static_cast<size_t>(couple - p.couples.data()));
      Keep(p.single, Single{std::move(ended.husband), on, /*widowed=*/false});
      Keep(p.single, Single{std::move(ended.wife), on, /*widowed=*/false});
    } else {
      change("data.notes", "Đính chính theo yêu cầu " + std::string(id));
      e.Set("edit_kind", "correction");
    }
    e.Set("base_version", static_cast<int64_t>(m.version));
    e.Set("reason", reason);
    if (is_bad) {
      if (cls == ErrorClass::kUnknownRecord) {
        std::string rid = rec.Find("record_id")->as_string();
        e.Set("record_id", rid.substr(0, rid.size() - 6) + "999999");
      } else if (cls == ErrorClass::kImmutableField) {
        change("commune_code", "00004");
      } else if (cls == ErrorClass::kVersionConflict) {
        e.Set("base_version", static_cast<int64_t>(m.version + 3));
      }
      e.Set("changes", std::move(changes));
      e.Set("expect_error", std::string(ErrorClassName(cls)));
      return e;
    }
    e.Set("changes", changes);
    e.Set("expect_error", Json());
    for (const auto& c : changes.as_array())
      SetJsonAt(&rec, c.Find("path")->as_string(), *c.Find("new"));
    ++m.version;
    return e;
  }

  // ---------------------------------------------------------------- bad lines
  // The main person of a record (whose names and ID a corruption touches).
  std::string MainPerson(const Json& line) {
    const std::string type = line.Find("type")->as_string();
    if (type == "birth") return "data.child";
    if (type == "death") return "data.deceased";
    if (type == "marriage") return rng_.OneIn(2) ? "data.husband" : "data.wife";
    if (type == "parent_child_recognition") return "data.parent";
    if (type == "guardianship") return "data.guardian";
    if (type == "change_correction" || type == "marital_status_confirmation") return "data.subject";
    if (type == "re_registration") {
      return JsonAt(line, "data.event_type")->as_string() == "birth" ? "data.event.child"
                                                                     : "data.event.husband";
    }
    return JsonAt(line, "data.violator_kind")->as_string() == "individual" ? "data.violator" : "";
  }
  Json* Mutable(Json& line, const std::string& path) {
    return const_cast<Json*>(JsonAt(line, path));
  }
  void Reidentify(Json& line, const std::string& person) {
    Json* p = Mutable(line, person);
    const Date b = *ParseDateOrNull(p->Find("birth_date")->as_string());
    p->Set("personal_id", PersonalId(b, p->Find("sex")->as_string(),
                                     p->Find("personal_id")->as_string().substr(0, 3)));
  }

  // Builds one error into `line` (in the JSON); classes that live in the
  // text (encoding, JSON syntax) are applied by TextCorruption.
  void Corrupt(Json* line_ptr) {
    Json& line = *line_ptr;
    const std::string type = line.Find("type")->as_string();
    const std::string person = MainPerson(line);
    const std::string reg_code = JsonAt(line, "book.register")->as_string();
    const std::string commune = line.Find("commune_code")->as_string();
    const std::string registered = line.Find("registered_at")->as_string();
    People& people = people_[commune];
    std::vector<ErrorClass> fit;
    for (ErrorClass c : classes_) {
      switch (c) {
        case ErrorClass::kNameNotNfc:
        case ErrorClass::kNameInvalidChars:
        case ErrorClass::kIdFormat:
        case ErrorClass::kIdProvinceUnknown:
        case ErrorClass::kIdCenturySexMismatch:
        case ErrorClass::kIdBirthYearMismatch:
        case ErrorClass::kNameInconsistent:
          if (!person.empty()) fit.push_back(c);
          break;
        case ErrorClass::kDeathBeforeBirth:
          if (type == "death") fit.push_back(c);
          break;
        case ErrorClass::kChronology:
          if (type == "birth" || type == "death") fit.push_back(c);
          break;
        case ErrorClass::kAgeRule:
        case ErrorClass::kMarriageSex:
          if (type == "marriage") fit.push_back(c);
          break;
        case ErrorClass::kFineOutOfRange:
        case ErrorClass::kFineExceedsAuthority:
        case ErrorClass::kLimitationExpired:
          if (type == "violation_decision" &&
              JsonAt(line, "data.principal_penalty")->as_string() == "fine")
            fit.push_back(c);
          break;
        case ErrorClass::kPenaltyInconsistent:
          if (type == "violation_decision") fit.push_back(c);
          break;
        case ErrorClass::kEntryDuplicate:
          // The same number as an earlier record of this type and year.
          if (last_valid_.count(reg_code) && JsonAt(last_valid_[reg_code], "book.year")->as_int() ==
                                                 JsonAt(line, "book.year")->as_int()) {
            fit.push_back(c);
          }
          break;
        // The person rules: someone named earlier in the file, in a record
        // otherwise valid.
        case ErrorClass::kChildAlreadyRegistered:
          if (type == "birth" && !people.children.empty()) fit.push_back(c);
          break;
        case ErrorClass::kDeathAlreadyRegistered:
          if (type == "death" && !people.deaths.empty()) fit.push_back(c);
          break;
        case ErrorClass::kPersonDeceased:
          if ((type == "marriage" || type == "marital_status_confirmation") &&
              DeathBefore(commune, registered) != nullptr)
            fit.push_back(c);
          break;
        case ErrorClass::kAlreadyMarried:
          if (type == "marriage" && !people.couples.empty()) fit.push_back(c);
          break;
        case ErrorClass::kMaritalStatusContradicted:
          if (type == "marital_status_confirmation" &&
              (!people.couples.empty() || !people.single.empty()))
            fit.push_back(c);
          break;
        case ErrorClass::kUnknownRecord:
        case ErrorClass::kImmutableField:
        case ErrorClass::kVersionConflict:
        case ErrorClass::kStatusTransition:
        case ErrorClass::kOutOfScope:
          break;  // edits, or depends on the importing node
        default:
          fit.push_back(c);
      }
    }
    if (fit.empty()) return;
    const ErrorClass c = fit[rng_.Uniform(fit.size())];
    line.Set("expect_error", std::string(ErrorClassName(c)));
    Json* p = person.empty() ? nullptr : Mutable(line, person);
    switch (c) {
      case ErrorClass::kEncodingInvalid:
      case ErrorClass::kMalformedJson:
        break;  // TextCorruption
      case ErrorClass::kUnknownType:
        line.Set("type", "adoption_order");
        break;
      case ErrorClass::kMissingRequired:
        line.Set("registered_at", "");
        break;
      case ErrorClass::kWrongType:
        Mutable(line, "book")->Set("entry_no", JsonAt(line, "book.entry_no")->Dump());
        break;
      case ErrorClass::kFieldTooLong:
        Mutable(line, "data")->Set("notes", std::string(2100, 'x'));
        break;
      case ErrorClass::kDateFormat: {
        const Date d = *ParseDateOrNull(line.Find("registered_at")->as_string());
        char buf[16];
        std::snprintf(buf, sizeof buf, "%02d/%02d/%04d", d.day, d.month, d.year);
        line.Set("registered_at", buf);
        break;
      }
      case ErrorClass::kDateInvalid:
        line.Set("registered_at", line.Find("registered_at")->as_string().substr(0, 8) + "32");
        break;
      case ErrorClass::kNameNotNfc:
        // Decomposed accents, as some legacy input methods produce.
        p->Set("family_name", ToNfd("Nguyễn"));
        p->Set("full_name", ToNfd("Nguyễn " + p->Find("middle_name")->as_string() + " " +
                                  p->Find("given_name")->as_string()));
        break;
      case ErrorClass::kNameInvalidChars: {
        const std::string g = p->Find("given_name")->as_string();
        size_t first = 0;
        NextCodePoint(g, &first);  // after the first letter, which may be several bytes
        p->Set("given_name",
               g.substr(0, first) + "\u200d" + g.substr(first));  // a zero-width joiner
        break;
      }
      case ErrorClass::kCommuneUnknown: {
        const std::string closed = "03331";  // closed on 1 July 2025
        line.Set("commune_code", closed);
        line.Set("record_id", closed + line.Find("record_id")->as_string().substr(5));
        break;
      }
      case ErrorClass::kIdFormat:
        p->Set("personal_id", p->Find("personal_id")->as_string().substr(0, 11));
        break;
      case ErrorClass::kIdProvinceUnknown:
        p->Set("personal_id", "000" + p->Find("personal_id")->as_string().substr(3));
        break;
      case ErrorClass::kIdCenturySexMismatch: {
        std::string id = p->Find("personal_id")->as_string();
        id[3] = static_cast<char>('0' + ((id[3] - '0') ^ 1));
        p->Set("personal_id", id);
        break;
      }
      case ErrorClass::kIdBirthYearMismatch: {
        std::string id = p->Find("personal_id")->as_string();
        const int yy = (std::stoi(id.substr(4, 2)) + 1 + static_cast<int>(rng_.Uniform(90))) % 100;
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02d", yy);
        p->Set("personal_id", id.substr(0, 4) + buf + id.substr(6));
        break;
      }
      case ErrorClass::kNameInconsistent:
        p->Set("full_name", p->Find("full_name")->as_string() + " Văn");
        break;
      case ErrorClass::kDeathBeforeBirth: {
        const Date death =
            *ParseDateOrNull(JsonAt(line, "data.death_datetime")->as_string().substr(0, 10));
        p->Set("birth_date",
               DateFromDayNumber(death.DayNumber() + 1 + static_cast<int64_t>(rng_.Uniform(300)))
                   .ToString());
        Reidentify(line, person);
        break;
      }
      case ErrorClass::kChronology: {
        const Date reg = *ParseDateOrNull(line.Find("registered_at")->as_string());
        if (type == "birth") {
          p->Set("birth_date",
                 DateFromDayNumber(reg.DayNumber() + 1 + static_cast<int64_t>(rng_.Uniform(100)))
                     .ToString());
          Reidentify(line, person);
        } else {
          Mutable(line, "data")
              ->Set("death_datetime", DateFromDayNumber(reg.DayNumber() + 5).ToString() + "T08:00");
        }
        break;
      }
      case ErrorClass::kAgeRule: {
        const Date reg = *ParseDateOrNull(line.Find("registered_at")->as_string());
        Json* wife = Mutable(line, "data.wife");
        wife->Set("birth_date", BirthForAge(reg, 15, 16).ToString());
        Reidentify(line, "data.wife");
        break;
      }
      case ErrorClass::kMarriageSex: {
        Json* wife = Mutable(line, "data.wife");
        wife->Set("sex", "M");
        Reidentify(line, "data.wife");
        break;
      }
      case ErrorClass::kFineOutOfRange:
        Mutable(line, "data")->Set("fine_amount_vnd", int64_t{40'000});
        break;
      case ErrorClass::kFineExceedsAuthority: {
        const Sector* s =
            ReferenceData::Get().FindSector(JsonAt(line, "data.violation.sector")->as_string());
        const int64_t max =
            s->max_fine_individual_vnd *
            (JsonAt(line, "data.violator_kind")->as_string() == "organization" ? 2 : 1);
        Mutable(line, "data")->Set("fine_amount_vnd", max / 2 + 1'000'000);
        break;
      }
      case ErrorClass::kPenaltyInconsistent:
        if (JsonAt(line, "data.principal_penalty")->as_string() == "fine") {
          Mutable(line, "data")->Set("fine_amount_vnd", int64_t{0});
        } else {
          Mutable(line, "data")->Set("fine_amount_vnd", int64_t{200'000});
        }
        break;
      case ErrorClass::kLimitationExpired: {
        const Date decided = *ParseDateOrNull(JsonAt(line, "data.decision_date")->as_string());
        const std::string occurred = DateFromDayNumber(decided.DayNumber() - 400).ToString();
        Mutable(line, "data.violation")->Set("occurred_at", occurred);
        Mutable(line, "data.violation_record")->Set("date", occurred);
        break;
      }
      case ErrorClass::kEntryInvalid:
        Mutable(line, "book")->Set("entry_no", int64_t{0});
        break;
      case ErrorClass::kEntryDuplicate: {
        const Json& prev = last_valid_[reg_code];
        line.Set("commune_code", *prev.Find("commune_code"));
        line.Set("province_code", *prev.Find("province_code"));
        line.Set("book", *prev.Find("book"));
        line.Set("record_id", *prev.Find("record_id"));
        if (type == "violation_decision")
          Mutable(line, "data")->Set("decision_no", *JsonAt(prev, "data.decision_no"));
        break;
      }
      case ErrorClass::kChildAlreadyRegistered:
        // The same child registered again (other parents, a new number).
        Mutable(line, "data")->Set("child", people.children[rng_.Uniform(people.children.size())]);
        break;
      case ErrorClass::kDeathAlreadyRegistered: {
        const Death& d = people.deaths[rng_.Uniform(people.deaths.size())];
        for (const auto& [k, v] : d.data.as_object()) Mutable(line, "data")->Set(k, v);
        break;
      }
      case ErrorClass::kPersonDeceased: {
        const Json& dead = *DeathBefore(commune, registered)->data.Find("deceased");
        if (type == "marriage") {
          Mutable(line, "data")
              ->Set(dead.Find("sex")->as_string() == "M" ? "husband" : "wife", dead);
        } else {
          Mutable(line, "data")->Set("subject", dead);
        }
        break;
      }
      case ErrorClass::kAlreadyMarried: {
        Couple& m = people.couples[rng_.Uniform(people.couples.size())];
        const bool husband = rng_.OneIn(2);
        Mutable(line, "data")->Set(husband ? "husband" : "wife", husband ? m.husband : m.wife);
        m.last = std::max(m.last, registered);  // their marriage must outlast this line
        break;
      }
      case ErrorClass::kMaritalStatusContradicted: {
        // "Never married" with a marriage on record, or widowed or divorced
        // while it stands.
        Json* data = Mutable(line, "data");
        const size_t n = people.couples.size() + people.single.size();
        const size_t k = rng_.Uniform(n);
        if (k < people.couples.size()) {
          Couple& m = people.couples[k];
          static const char* const kNotMarried[] = {"never_married", "divorced", "widowed"};
          data->Set("subject", rng_.OneIn(2) ? m.husband : m.wife);
          data->Set("marital_status", Pick(kNotMarried));
          m.last = std::max(m.last, registered);
        } else {
          data->Set("subject", people.single[k - people.couples.size()].person);
          data->Set("marital_status", "never_married");
        }
        break;
      }
      default:
        break;
    }
  }

  std::string TextCorruption(const Json& line, std::string text) {
    const std::string cls =
        line.Find("expect_error")->is_string() ? line.Find("expect_error")->as_string() : "";
    if (cls == "encoding_invalid") {
      const size_t at = text.find("\"registered_at\":\"");
      text[at + 17] = static_cast<char>(0xFF);  // a byte no UTF-8 text has
    } else if (cls == "malformed_json") {
      text.pop_back();  // the closing brace: the object is cut short
    }
    return text;
  }

 private:
  const GeneratorOptions& o_;
  Random rng_;
  // Which known people lines name again: a stream of its own, so a file
  // without bad lines differs from one made before the person rules only
  // where a line names someone again.
  Random who_;
  Date from_, to_;
  std::vector<ErrorClass> classes_;
  std::map<std::string, int> counters_;
  std::set<std::string> ids_;
  std::vector<Made> made_;
  std::map<std::string, Json> last_valid_;
  std::map<std::string, People> people_;  // by commune
  int edit_seq_ = 0;
};

}  // namespace

std::vector<ErrorClass> GeneratedErrorClasses() {
  std::vector<ErrorClass> out;
  for (int i = 0; i < kErrorClassCount; ++i) {
    const auto c = static_cast<ErrorClass>(i);
    if (c != ErrorClass::kOutOfScope) out.push_back(c);
  }
  return out;
}

Status CheckGeneratorOptions(const GeneratorOptions& o) {
  auto not_a_date = [](const char* flag, const std::string& text) {
    return Status::InvalidArgument(std::string(flag) + " '" + text +
                                   "' is not a date from 1900 to 2100 (YYYY-MM-DD)");
  };
  const std::optional<Date> from = ParseDateOrNull(o.from);
  if (!from) return not_a_date("--from", o.from);
  const std::optional<Date> to = ParseDateOrNull(o.to);
  if (!to) return not_a_date("--to", o.to);
  if (*to < *from) {
    return Status::InvalidArgument("the date range is empty: --from " + from->ToString() +
                                   " is after --to " + to->ToString());
  }
  if (o.records < 0) return Status::InvalidArgument("--records cannot be negative");
  if (o.edits < 0) return Status::InvalidArgument("--edits cannot be negative");
  if (!(o.bad >= 0 && o.bad <= 1))
    return Status::InvalidArgument("--bad is a share between 0 and 1");
  if (o.communes.empty()) return Status::InvalidArgument("no commune to generate records for");
  return Status::Ok();
}

void GenerateRecords(const GeneratorOptions& options,
                     const std::function<void(const std::string& line)>& sink) {
  // A reversed range once made the draw divide by zero (SIGFPE) or wrap
  // round to the year 1805419103.
  [[maybe_unused]] const Status valid = CheckGeneratorOptions(options);
  assert(valid.ok() && "GenerateRecords with options CheckGeneratorOptions refuses");
  if (!CheckGeneratorOptions(options).ok()) return;
  Gen g(options);
  g.Run(sink);
}

}  // namespace tuphap::domain
