// ToPamCode: every Outcome with and without nullok.
#include <gtest/gtest.h>
#include <security/pam_modules.h>

#include "pam_module/factor.h"

namespace gate::pam {
namespace {

struct Row {
  Outcome outcome;
  bool nullok;
  int expected;
};

TEST(ToPamCodeTest, Table) {
  const Row rows[] = {
      {Outcome::kSuccess, false, PAM_SUCCESS},
      {Outcome::kSuccess, true, PAM_SUCCESS},
      {Outcome::kFailure, false, PAM_AUTH_ERR},
      {Outcome::kFailure, true, PAM_AUTH_ERR},
      {Outcome::kLockedOut, false, PAM_MAXTRIES},
      {Outcome::kLockedOut, true, PAM_MAXTRIES},
      {Outcome::kNotEnrolled, false, PAM_AUTH_ERR},
      {Outcome::kNotEnrolled, true, PAM_IGNORE},
      {Outcome::kUnavailable, false, PAM_AUTHINFO_UNAVAIL},
      {Outcome::kUnavailable, true, PAM_AUTHINFO_UNAVAIL},
      {Outcome::kError, false, PAM_AUTH_ERR},
      {Outcome::kError, true, PAM_AUTH_ERR},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(ToPamCode(row.outcome, row.nullok), row.expected)
        << "outcome " << static_cast<int>(row.outcome) << " nullok " << row.nullok;
  }
}

TEST(ToPamCodeTest, OnlySuccessIsSuccessAndOnlyNullokIgnores) {
  for (int o = static_cast<int>(Outcome::kSuccess); o <= static_cast<int>(Outcome::kError); ++o) {
    const auto outcome = static_cast<Outcome>(o);
    for (bool nullok : {false, true}) {
      const int rc = ToPamCode(outcome, nullok);
      EXPECT_EQ(rc == PAM_SUCCESS, outcome == Outcome::kSuccess) << o;
      EXPECT_EQ(rc == PAM_IGNORE, outcome == Outcome::kNotEnrolled && nullok) << o;
    }
  }
}

}  // namespace
}  // namespace gate::pam
