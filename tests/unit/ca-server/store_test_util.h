// The store tests' common fixture: a fresh SQLite store in a temporary
// directory for each test, removed afterwards.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_TEST_UTIL_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "ca-server/store/store.h"

namespace gate::ca {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "gate-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    path_ = (dir_ / "gate.db").string();
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Closes the store and opens the same database file again, as a restart
  // of gate-ca would.
  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = *std::move(store);
  }

  std::filesystem::path dir_;
  std::string path_;  // dir_/gate.db
  std::unique_ptr<Store> store_;
};

}  // namespace gate::ca

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_TEST_UTIL_H_
