#include "node/domain/messages.h"

#include <cstdlib>
#include <vector>

namespace tuphap::domain {
namespace {

struct Text {
  Msg id;
  const char* en;
  const char* vi;
};

constexpr Text kTexts[] = {
    {Msg::kNotUtf8, "the line is not valid UTF-8 (byte {0})",
     "dòng không phải UTF-8 hợp lệ (byte {0})"},
    {Msg::kNotJson, "not JSON: {0} (byte {1})", "không phải JSON: {0} (byte {1})"},
    {Msg::kDuplicateKey, "{0} (byte {1})", "khóa bị lặp: {0} (byte {1})"},
    {Msg::kNotAnObject, "a line must be one JSON object", "mỗi dòng phải là một đối tượng JSON"},
    {Msg::kUnknownOp, "unknown operation '{0}': expected create or edit",
     "thao tác không hợp lệ '{0}': phải là create hoặc edit"},
    {Msg::kUnknownType, "unknown record type '{0}'", "loại hồ sơ không hợp lệ '{0}'"},
    {Msg::kUnknownSchema, "unknown schema version {0}: this tuphap reads version 1",
     "phiên bản lược đồ {0} không được hỗ trợ (chỉ hỗ trợ phiên bản 1)"},
    {Msg::kMissing, "{0} is required but is missing or empty", "thiếu trường bắt buộc {0}"},
    {Msg::kWrongTypeText, "{0} must be text (a JSON string)", "{0} phải là chuỗi văn bản"},
    {Msg::kWrongTypeInt, "{0} must be a whole number, not {1}",
     "{0} phải là số nguyên, không phải {1}"},
    {Msg::kWrongTypeObject, "{0} must be an object", "{0} phải là một đối tượng"},
    {Msg::kWrongTypeList, "{0} must be a list", "{0} phải là một danh sách"},
    {Msg::kUnknownField, "{0} is not a field of a {1} record",
     "{0} không phải là trường của hồ sơ {1}"},
    {Msg::kNotOneOf, "{0} must be one of {1}, not '{2}'",
     "{0} phải là một trong {1}, không phải '{2}'"},
    {Msg::kTooLong, "{0} has {1} characters; at most {2} are allowed",
     "{0} dài {1} ký tự; tối đa {2} ký tự"},
    {Msg::kDateFormat, "{0} must be a date written YYYY-MM-DD, not '{1}'",
     "{0} phải là ngày theo dạng YYYY-MM-DD, không phải '{1}'"},
    {Msg::kDateTimeFormat, "{0} must be written YYYY-MM-DDTHH:MM, not '{1}'",
     "{0} phải theo dạng YYYY-MM-DDTHH:MM, không phải '{1}'"},
    {Msg::kDateInvalid, "{0} '{1}' is not a real date between 1900 and 2100",
     "{0} '{1}' không phải ngày có thật trong khoảng 1900-2100"},
    {Msg::kNotNfc, "{0} is not in Unicode NFC form (decomposed or legacy-encoded accents)",
     "{0} không ở dạng Unicode NFC (dấu bị tách hoặc mã cũ)"},
    {Msg::kNameChars, "{0} contains {1}", "{0} chứa ký tự không hợp lệ: {1}"},
    {Msg::kCommuneUnknown, "{0} '{1}' is not a commune code in force since 1 July 2025",
     "{0} '{1}' không phải mã xã đang có hiệu lực từ 01/7/2025"},
    {Msg::kCommuneClosed,
     "{0} '{1}' is a commune code closed on 1 July 2025; new registrations use the current code",
     "{0} '{1}' là mã xã đã giải thể từ 01/7/2025; đăng ký mới phải dùng mã hiện hành"},
    {Msg::kProvinceMismatch, "province_code '{0}' is not the province of commune {1} ({2})",
     "province_code '{0}' không phải tỉnh của xã {1} ({2})"},
    {Msg::kOutOfScopeCommune, "commune {0} is not this node's commune ({1})",
     "xã {0} không thuộc phạm vi của nút này (xã {1})"},
    {Msg::kOutOfScopeProvince, "commune {0} is not in this hub's province ({1})",
     "xã {0} không thuộc tỉnh của nút trung tâm này ({1})"},
    {Msg::kIdFormat, "{0} '{1}' must be exactly 12 ASCII digits",
     "{0} '{1}' phải gồm đúng 12 chữ số"},
    {Msg::kIdProvince,
     "{0} starts with {1}, which is not a province code of personal identification numbers",
     "{0} bắt đầu bằng {1}, không phải mã tỉnh của số định danh cá nhân"},
    {Msg::kIdCenturySex, "{0}: the 4th digit {1} does not match a {2} born in {3} (expected {4})",
     "{0}: chữ số thứ 4 là {1}, không khớp giới tính {2} sinh năm {3} (phải là {4})"},
    {Msg::kIdBirthYear, "{0}: digits 5-6 are {1}, but the birth year is {2}",
     "{0}: chữ số 5-6 là {1}, nhưng năm sinh là {2}"},
    {Msg::kNameInconsistent, "{0} '{1}' is not the family, middle and given names joined ('{2}')",
     "{0} '{1}' không khớp họ, chữ đệm và tên ('{2}')"},
    {Msg::kDeathBeforeBirth, "{0} ({1}) is after the death ({2})", "{0} ({1}) sau ngày chết ({2})"},
    {Msg::kNotAfter, "{0} ({1}) is after {2} ({3})", "{0} ({1}) sau {2} ({3})"},
    {Msg::kReRegistrationTooLate,
     "{0} is {1}: only events registered before 2016-01-01 can be registered again",
     "{0} là {1}: chỉ đăng ký lại sự kiện đã đăng ký trước 01/01/2016"},
    {Msg::kAgeRule, "{0} is {1} years old on {2}; the minimum is {3}",
     "{0} mới {1} tuổi vào ngày {2}; tối thiểu {3} tuổi"},
    {Msg::kMarriageSex, "{0} must be {1}: the law recognises marriage between a man and a woman",
     "{0} phải là {1}: pháp luật chỉ công nhận hôn nhân giữa nam và nữ"},
    {Msg::kFineTooLow, "{0} {1} VND is below the minimum fine of 50,000 VND",
     "{0} {1} đồng thấp hơn mức phạt tối thiểu 50.000 đồng"},
    {Msg::kFineTooHigh, "{0} {1} VND is above the maximum of {2} VND for sector {3}",
     "{0} {1} đồng vượt mức tối đa {2} đồng của lĩnh vực {3}"},
    {Msg::kFineAuthority,
     "{0} {1} VND is above what a commune chairman may impose ({2} VND, 50% of the maximum)",
     "{0} {1} đồng vượt thẩm quyền của Chủ tịch UBND cấp xã ({2} đồng, 50% mức tối đa)"},
    {Msg::kWarningWithFine, "a warning carries no fine, but {0} is {1}",
     "hình thức cảnh cáo không kèm tiền phạt, nhưng {0} là {1}"},
    {Msg::kFineWithoutAmount, "the penalty is a fine but {0} is 0",
     "hình thức phạt tiền nhưng {0} bằng 0"},
    {Msg::kLimitation, "the decision ({0}) is more than {1} year(s) after the violation ({2})",
     "quyết định ({0}) quá {1} năm kể từ ngày vi phạm ({2}): đã hết thời hiệu"},
    {Msg::kEntryNumber, "{0} must be 1 or more, not {1}", "{0} phải từ 1 trở lên, không phải {1}"},
    {Msg::kEntryYear, "book.year {0} is not the year of registered_at ({1})",
     "book.year {0} không phải năm đăng ký ({1})"},
    {Msg::kEntryRegister, "a {0} is entered in register {1}, not {2}",
     "hồ sơ {0} phải ghi vào sổ {1}, không phải {2}"},
    {Msg::kEntryRecordId, "record_id '{0}' does not match the register entry ({1})",
     "record_id '{0}' không khớp số đăng ký ({1})"},
    {Msg::kEntryDuplicate,
     "entry {0} of register {1} for {2} in commune {3} is already taken by another record",
     "số {0} sổ {1} năm {2} của xã {3} đã được dùng cho hồ sơ khác"},
    {Msg::kUnknownRecord, "no record {0} in commune {1}", "không có hồ sơ {0} của xã {1}"},
    {Msg::kImmutable, "{0} cannot be changed after registration",
     "không được sửa {0} sau khi đã đăng ký"},
    {Msg::kVersionConflict, "the edit is based on version {0} but the record is at version {1}",
     "sửa đổi dựa trên phiên bản {0} nhưng hồ sơ đang ở phiên bản {1}"},
    {Msg::kOldValueMismatch, "{0} is now '{1}', not '{2}' as the edit expects",
     "{0} hiện là '{1}', không phải '{2}' như bản sửa đổi ghi nhận"},
    {Msg::kStatusTransition, "a decision cannot go from {0} to {1}",
     "quyết định không thể chuyển từ {0} sang {1}"},
    {Msg::kEditBeforeCreate, "the edit ({0}) is dated before the registration ({1})",
     "ngày sửa đổi ({0}) trước ngày đăng ký ({1})"},
    {Msg::kChangeTwice, "{0} is changed twice in one edit (or together with a part of it)",
     "{0} bị sửa hai lần trong một lần sửa (hoặc cùng với một phần của nó)"},
    {Msg::kRevokedRecord, "record {0} is revoked; it can no longer be edited",
     "hồ sơ {0} đã bị hủy; không thể sửa nữa"},
    {Msg::kEntryTooHigh, "book.entry_no {0} is above 999999, the last number of a register",
     "book.entry_no {0} vượt quá 999999, số cuối cùng của một sổ"},
    {Msg::kEntryLeased,
     "entry {0} of register {1} for {2} is in a block leased to another node of this commune",
     "số {0} của sổ {1} năm {2} thuộc khối số đã cấp cho một máy khác của xã"},
    {Msg::kCreateVersion, "a new record starts at version 1, not {0}",
     "hồ sơ mới bắt đầu ở phiên bản 1, không phải {0}"},
    {Msg::kNodeKept, "{0} is kept by the node; a create line cannot carry it",
     "{0} do hệ thống tự ghi; dòng tạo mới không được chứa trường này"},
    {Msg::kEditType, "the edit says type {0} but record {1} is a {2}",
     "dòng sửa ghi loại {0} nhưng hồ sơ {1} là {2}"},
    // Person rules: {0} personal ID, {1} the other record, {2} its commune,
    // {3} its date, {4} a further date or status.
    {Msg::kChildAlreadyRegistered,
     "the child with personal ID {0} already has a birth registration: record {1} of commune {2}, "
     "registered {3}",
     "trẻ có số định danh cá nhân {0} đã được đăng ký khai sinh: hồ sơ {1} của xã {2}, đăng ký "
     "ngày {3}"},
    {Msg::kDeathAlreadyRegistered,
     "the person with personal ID {0} is already recorded dead: record {1} of commune {2}, "
     "died {3}",
     "người có số định danh cá nhân {0} đã được đăng ký khai tử: hồ sơ {1} của xã {2}, chết ngày "
     "{3}"},
    {Msg::kPersonDeceased,
     "the person with personal ID {0} is recorded dead on {3} (record {1} of commune {2}), "
     "before this registration ({4})",
     "người có số định danh cá nhân {0} đã chết ngày {3} (hồ sơ {1} của xã {2}), trước ngày "
     "đăng ký này ({4})"},
    {Msg::kAlreadyMarried,
     "the person with personal ID {0} is already married: record {1} of commune {2}, registered "
     "{3}, with no recorded dissolution or death of the spouse before {4}",
     "người có số định danh cá nhân {0} đang có vợ hoặc chồng: hồ sơ kết hôn {1} của xã {2}, "
     "đăng ký ngày {3}, chưa ghi nhận ly hôn hay vợ, chồng đã chết trước ngày {4}"},
    {Msg::kMaritalStatusContradicted,
     "the records show a marriage of the person with personal ID {0}: record {1} of commune {2}, "
     "registered {3}; a confirmation of '{4}' cannot be issued",
     "hồ sơ cho thấy người có số định danh cá nhân {0} đã đăng ký kết hôn: hồ sơ {1} của xã {2}, "
     "đăng ký ngày {3}; không thể xác nhận tình trạng '{4}'"},
    {Msg::kPersonDeceasedLater,
     "the person with personal ID {0} is named as a party who must be alive in record {1} of "
     "commune {2}, registered {3}, after this death ({4})",
     "người có số định danh cá nhân {0} có tên là người phải còn sống trong hồ sơ {1} của xã {2}, "
     "đăng ký ngày {3}, sau ngày chết này ({4})"},
    {Msg::kAlreadyMarriedLater,
     "the person with personal ID {0} has a later marriage on record: record {1} of commune {2}, "
     "registered {3}, with no dissolution of this one ({4}) recorded before it",
     "người có số định danh cá nhân {0} đã có hồ sơ kết hôn sau đó: hồ sơ {1} của xã {2}, đăng ký "
     "ngày {3}, mà chưa ghi nhận chấm dứt hôn nhân này ({4}) trước đó"},
    {Msg::kMaritalStatusContradictedLater,
     "a confirmation on record states the person with personal ID {0} as '{4}': record {1} of "
     "commune {2}, issued {3}; a marriage registered on or before that date contradicts it",
     "giấy xác nhận đã cấp ghi người có số định danh cá nhân {0} là '{4}': hồ sơ {1} của xã {2}, "
     "cấp ngày {3}; việc kết hôn đăng ký trước hoặc trong ngày đó mâu thuẫn với giấy này"},
};

}  // namespace

Lang LangFromEnvironment() {
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      return std::string_view(v).substr(0, 2) == "vi" ? Lang::kVietnamese : Lang::kEnglish;
    }
  }
  return Lang::kEnglish;
}

std::string FillTemplate(const char* tmpl, std::initializer_list<std::string_view> args) {
  const std::vector<std::string_view> a(args);
  std::string out;
  for (const char* p = tmpl; *p != '\0'; ++p) {
    if (*p == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}') {
      const size_t i = static_cast<size_t>(p[1] - '0');
      if (i < a.size()) out.append(a[i]);
      p += 2;
    } else {
      out.push_back(*p);
    }
  }
  return out;
}

std::string Format(Lang lang, Msg msg, std::initializer_list<std::string_view> args) {
  const char* tmpl = "";
  for (const auto& t : kTexts) {
    if (t.id == msg) tmpl = lang == Lang::kVietnamese ? t.vi : t.en;
  }
  return FillTemplate(tmpl, args);
}

}  // namespace tuphap::domain
