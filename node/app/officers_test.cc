// Officer accounts on a real store file: adding and listing, verifying a
// password, one answer for an unknown login and a wrong password, the
// lockout and its end, disabling, new passwords, the input rules, two
// processes adding one login at once, and the hash format.
#include "node/app/officers.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "node/keys.h"

namespace tuphap::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using store::Database;
using store::Store;

constexpr const char* kPassword = "mật khẩu đủ dài";
constexpr const char* kOther = "another-password";

class OfficersTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tuphap-officers-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = Open();
    officers_ = Make(*store_, domain::Lang::kEnglish);
  }
  void TearDown() override {
    officers_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string Path() const { return (dir_ / "tuphap.db").string(); }
  std::unique_ptr<Store> Open() const {
    auto s = Store::Open(Path(), Database::OpenMode::kCreate);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  std::unique_ptr<Officers> Make(Store& store, domain::Lang lang) {
    return std::make_unique<Officers>(store, clock_, lang, node::KdfLimits::Weak());
  }
  Officer Add(const char* login, Role role = Role::kOfficer) {
    auto o = officers_->Add(login, "Nguyễn Thị Hồng", role, kPassword);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : Officer{};
  }
  // The code, reason and message of a Verify that must fail.
  Status Refusal(std::string_view login, std::string_view password) {
    auto r = officers_->Verify(login, password);
    EXPECT_FALSE(r.ok()) << login;
    return r.status();
  }

  fs::path dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Officers> officers_;
};

TEST_F(OfficersTest, AddedAccountsAreListedFoundAndVerified) {
  clock_.SetWall(1'800'000'000'000);
  const Officer lan = Add("lan", Role::kOfficer);
  const Officer tuan = Add("tuan.head", Role::kHead);
  const Officer op = Add("op-1", Role::kOperator);
  EXPECT_GT(lan.id, 0);
  EXPECT_EQ(lan.name, "Nguyễn Thị Hồng");
  EXPECT_EQ(lan.created_ms, 1'800'000'000'000);
  EXPECT_FALSE(lan.disabled);

  auto all = officers_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].login, "lan");  // by login
  EXPECT_EQ((*all)[1].login, "op-1");
  EXPECT_EQ((*all)[1].role, Role::kOperator);
  EXPECT_EQ((*all)[2].login, "tuan.head");
  EXPECT_EQ((*all)[2].role, Role::kHead);

  auto found = officers_->Find("TUAN.HEAD");  // capitals are read as small letters
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->id, tuan.id);
  auto got = officers_->Get(op.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->login, "op-1");
  EXPECT_EQ(officers_->Get(op.id + 100).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(officers_->Find("nobody").status().code(), StatusCode::kNotFound);

  auto in = officers_->Verify("lan", kPassword);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->id, lan.id);
  EXPECT_EQ(in->role, Role::kOfficer);

  // Another Store on the same file (another process would see the same).
  std::unique_ptr<Store> again = Open();
  auto other = Make(*again, domain::Lang::kEnglish);
  ASSERT_TRUE(other->Verify("tuan.head", kPassword).ok());
}

TEST_F(OfficersTest, AddingAnAccountWritesNothingThatSyncs) {
  auto heads = store_->Heads();
  ASSERT_TRUE(heads.ok());
  ASSERT_TRUE(heads->empty());
  Add("lan");
  ASSERT_TRUE(officers_->SetPassword("lan", kOther).ok());
  ASSERT_TRUE(officers_->Disable("lan").ok());
  heads = store_->Heads();
  ASSERT_TRUE(heads.ok());
  EXPECT_TRUE(heads->empty()) << "an account change went into a feed";
}

TEST_F(OfficersTest, UnknownLoginAndWrongPasswordGetTheSameAnswer) {
  Add("lan");
  const Status wrong = Refusal("lan", "not-the-password");
  const Status unknown = Refusal("nobody", "not-the-password");
  const Status malformed = Refusal("x", "not-the-password");  // no login can be one letter
  EXPECT_EQ(wrong.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.message(), "wrong login or password");
  EXPECT_EQ(wrong.reason(), "credentials");
  EXPECT_EQ(unknown, wrong);
  EXPECT_EQ(malformed, wrong);

  auto vi = Make(*store_, domain::Lang::kVietnamese);
  auto r = vi->Verify("nobody", kPassword);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "sai tên đăng nhập hoặc mật khẩu");
}

TEST_F(OfficersTest, FiveWrongPasswordsLockTheAccountForFifteenMinutes) {
  Add("lan");
  Add("hoa");
  // A success resets the count: four wrong, one right, four wrong again.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");
  EXPECT_EQ(officers_->Find("lan")->failures, 4);
  ASSERT_TRUE(officers_->Verify("lan", kPassword).ok());
  EXPECT_EQ(officers_->Find("lan")->failures, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");

  // The fifth in a row locks; it answers as any wrong password does, and so
  // does every wrong password while locked: to someone who does not know
  // the password, a locked account looks like any other and like none.
  clock_.SetWall(1'750'000'000'000);  // 15:06:40 UTC = 22:06:40 in Vietnam
  const Status fifth = Refusal("lan", "wrong-password");
  EXPECT_EQ(fifth.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fifth.reason(), "credentials");
  EXPECT_EQ(fifth.message(), Refusal("nobody", "wrong-password").message());
  EXPECT_EQ(officers_->Find("lan")->locked_until_ms,
            1'750'000'000'000 + milliseconds(Officers::kLockout).count());
  EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");
  EXPECT_EQ(officers_->Find("lan")->locked_until_ms,
            1'750'000'000'000 + milliseconds(Officers::kLockout).count())
      << "a wrong password while locked does not lengthen the lock";
  // Locked: even the right password is refused, and it is told until when.
  clock_.Advance(14 * 60 * 1000);
  const Status locked = Refusal("lan", kPassword);
  EXPECT_EQ(locked.reason(), "locked");
  // In the one form people read times in, with its zone (domain::TimeZone::Human).
  EXPECT_NE(locked.message().find("until 15/06/2025 22:21 (UTC+07:00)"), std::string::npos)
      << locked.message();
  auto vi = Make(*store_, domain::Lang::kVietnamese);
  auto vr = vi->Verify("lan", kPassword);
  ASSERT_FALSE(vr.ok());
  EXPECT_NE(vr.status().message().find("tạm khoá"), std::string::npos);
  EXPECT_NE(vr.status().message().find("đến 15/06/2025 22:21 (UTC+07:00)"), std::string::npos)
      << vr.status().message();
  // Other accounts are not touched.
  EXPECT_TRUE(officers_->Verify("hoa", kPassword).ok());

  // After the lockout the right password works and resets everything.
  clock_.Advance(60 * 1000);
  auto in = officers_->Verify("lan", kPassword);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->failures, 0);
  EXPECT_EQ(officers_->Find("lan")->locked_until_ms, 0);
}

TEST_F(OfficersTest, TheCountStartsAgainWhenALockRunsOut) {
  Add("lan");
  for (int i = 0; i < Officers::kMaxFailures; ++i) (void)Refusal("lan", "wrong-password");
  EXPECT_EQ(Refusal("lan", kPassword).reason(), "locked");
  clock_.Advance(milliseconds(Officers::kLockout).count());
  // One wrong password after the lock is the first of a new run, not the sixth.
  EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");
  EXPECT_EQ(officers_->Find("lan")->failures, 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");
  EXPECT_EQ(Refusal("lan", kPassword).reason(), "locked");
}

TEST_F(OfficersTest, ADisabledAccountIsRefusedUntilEnabled) {
  Add("lan");
  ASSERT_TRUE(officers_->Disable("lan").ok());
  EXPECT_TRUE(officers_->Find("lan")->disabled);
  const Status right = Refusal("lan", kPassword);
  EXPECT_EQ(right.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(right.reason(), "disabled");
  // A wrong password does not learn that the account is disabled.
  EXPECT_EQ(Refusal("lan", "wrong-password").reason(), "credentials");
  ASSERT_TRUE(officers_->Enable("lan").ok());
  EXPECT_TRUE(officers_->Verify("lan", kPassword).ok());
  EXPECT_EQ(officers_->Disable("nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ(officers_->Enable("nobody").code(), StatusCode::kNotFound);
}

TEST_F(OfficersTest, ANewPasswordReplacesTheOldAndEndsALock) {
  Add("lan");
  for (int i = 0; i < Officers::kMaxFailures; ++i) (void)Refusal("lan", "wrong-password");
  EXPECT_EQ(Refusal("lan", kPassword).reason(), "locked");
  ASSERT_TRUE(officers_->SetPassword("lan", kOther).ok());
  auto in = officers_->Verify("lan", kOther);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(Refusal("lan", kPassword).reason(), "credentials");
  EXPECT_EQ(officers_->SetPassword("nobody", kOther).code(), StatusCode::kNotFound);
  EXPECT_EQ(officers_->SetPassword("lan", "short").reason(), "password");
}

TEST_F(OfficersTest, MalformedInputIsRefusedNamingTheField) {
  auto add = [&](std::string_view login, std::string_view name, std::string_view password) {
    return officers_->Add(login, name, Role::kOfficer, password).status();
  };
  const std::string good_name = "Trần Văn Đức";
  for (const char* login :
       {"a", "", "lan hoa", "lan@xa", "lân", "a23456789012345678901234567890123"}) {
    const Status s = add(login, good_name, kPassword);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << login;
    EXPECT_EQ(s.reason(), "login") << login;
  }
  for (const std::string& name :
       {std::string(""), std::string("   "), std::string("Trần\tVăn"), std::string("Trần\x7f"),
        std::string("Tr\xff\xfe"), std::string(101, 'a')}) {
    const Status s = add("lan", name, kPassword);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(s.reason(), "name") << name;
  }
  for (const std::string& password :
       {std::string("123456789"), std::string(129, 'x'), std::string("0123456789\xff")}) {
    const Status s = add("lan", good_name, password);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << password;
    EXPECT_EQ(s.reason(), "password") << password;
  }
  EXPECT_TRUE(officers_->List()->empty()) << "a refused account was stored";

  // At the bounds, accepted; a decomposed name is stored composed, and a
  // password typed with decomposed accents matches the composed one.
  ASSERT_TRUE(add("ab", std::string(100, 'a'), std::string(10, 'x')).ok());
  ASSERT_TRUE(add("a2345678901234567890123456789012", "Tra\xCC\x82\xCC\x80n Thi\xCC\xA3",
                  std::string(128, 'x'))
                  .ok());
  EXPECT_EQ(officers_->Find("a2345678901234567890123456789012")->name, "Trần Thị");
  ASSERT_TRUE(add("lan", "  Lan  ", "m\xC3\xA2t-kh\xE1\xBA\xA9u").ok());  // "mât-khẩu", composed
  EXPECT_EQ(officers_->Find("lan")->name, "Lan");
  EXPECT_TRUE(officers_->Verify("lan", "ma\xCC\x82t-kha\xCC\x82\xCC\x89u").ok());

  const Status taken = add("LAN", good_name, kPassword);
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(taken.message(), "the login 'lan' is already taken");
  auto vi = Make(*store_, domain::Lang::kVietnamese);
  auto r = vi->Add("lan", good_name, Role::kHead, kPassword);
  EXPECT_EQ(r.status().message(), "tên đăng nhập 'lan' đã có người dùng");
}

TEST_F(OfficersTest, TwoProcessesAddingOneLoginAtOnceGetOneAccount) {
  store_.reset();  // each process opens its own store
  officers_.reset();
  for (int round = 0; round < 5; ++round) {
    const std::string login = "race" + std::to_string(round);
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    pid_t pids[2];
    for (pid_t& pid : pids) {
      pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(go[1]);
        auto s = Store::Open(Path(), Database::OpenMode::kCreate);
        if (!s.ok()) _exit(10);
        ManualClock clock;
        Officers officers(**s, clock, domain::Lang::kEnglish, node::KdfLimits::Weak());
        char c;
        (void)!read(go[0], &c, 1);  // both start when the pipe closes
        auto r = officers.Add(login, "Lê Văn Tám", Role::kOfficer, kPassword);
        _exit(r.ok() ? 0 : r.status().code() == StatusCode::kAlreadyExists ? 17 : 11);
      }
    }
    close(go[0]);
    close(go[1]);
    int codes[2];
    for (int i = 0; i < 2; ++i) {
      int status = 0;
      ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
      ASSERT_TRUE(WIFEXITED(status));
      codes[i] = WEXITSTATUS(status);
    }
    EXPECT_TRUE((codes[0] == 0 && codes[1] == 17) || (codes[0] == 17 && codes[1] == 0))
        << "round " << round << ": exit codes " << codes[0] << ", " << codes[1];
  }
  store_ = Open();
  officers_ = Make(*store_, domain::Lang::kEnglish);
  auto all = officers_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
}

TEST_F(OfficersTest, PasswordsAreStoredAsArgon2idHashesWithTheChosenLimits) {
  Add("weak");
  auto row = store_->FindOfficer("weak");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->password_hash.rfind("$argon2id$", 0), 0u) << (*row)->password_hash;
  EXPECT_EQ((*row)->password_hash.find(kPassword), std::string::npos);
  // Default limits: libsodium's interactive ones (64 MiB, 2 passes).
  Officers normal(*store_, clock_, domain::Lang::kEnglish);
  ASSERT_TRUE(normal.Add("normal", "Lan", Role::kOfficer, kPassword).ok());
  row = store_->FindOfficer("normal");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->password_hash.rfind("$argon2id$v=19$m=65536,t=2,", 0), 0u)
      << (*row)->password_hash;
  EXPECT_TRUE(normal.Verify("normal", kPassword).ok());
  // The limits travel in the hash: a weak hash verifies under any setting.
  EXPECT_TRUE(normal.Verify("weak", kPassword).ok());
}

}  // namespace
}  // namespace tuphap::app
