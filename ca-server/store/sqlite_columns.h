// Column tables: one list per aggregate of (column name, record field), from
// which the SQLite Store builds its column lists and placeholders, binds a
// record's fields and reads a row back. A column added to a table is added
// once, here, rather than in every INSERT, SELECT and bind chain.
#ifndef GATE_CA_STORE_SQLITE_COLUMNS_H_
#define GATE_CA_STORE_SQLITE_COLUMNS_H_

#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/store/sqlite_stmt.h"
#include "gate/secret.h"

namespace gate::ca::sqlite {

// How each field type is stored.
inline void BindValue(Stmt& stmt, int index, const std::string& value) { stmt.Text(index, value); }
inline void BindValue(Stmt& stmt, int index, const SecretString& value) {
  stmt.Blob(index, value.view());
}
inline void BindValue(Stmt& stmt, int index, const std::vector<std::uint8_t>& value) {
  stmt.Blob(index, std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
}
inline void BindValue(Stmt& stmt, int index, std::int64_t value) { stmt.Int(index, value); }
inline void BindValue(Stmt& stmt, int index, int value) { stmt.Int(index, value); }
inline void BindValue(Stmt& stmt, int index, bool value) { stmt.Int(index, value ? 1 : 0); }
// uint64 serials are stored bit-cast to int64 (SQLite integers are signed).
inline void BindValue(Stmt& stmt, int index, std::uint64_t value) {
  stmt.Int(index, std::bit_cast<std::int64_t>(value));
}
inline void BindValue(Stmt& stmt, int index, std::chrono::seconds value) {
  stmt.Int(index, value.count());
}

inline void ReadValue(const Stmt& stmt, int col, std::string& out) { out = stmt.ColumnText(col); }
inline void ReadValue(const Stmt& stmt, int col, SecretString& out) {
  out = stmt.ColumnSecret(col);
}
inline void ReadValue(const Stmt& stmt, int col, std::vector<std::uint8_t>& out) {
  out = stmt.ColumnBytes(col);
}
inline void ReadValue(const Stmt& stmt, int col, std::int64_t& out) { out = stmt.ColumnInt(col); }
// Clamped: a counter never grows past int in a database gate-ca wrote.
inline void ReadValue(const Stmt& stmt, int col, int& out) {
  const std::int64_t value = stmt.ColumnInt(col);
  out = value > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                                : static_cast<int>(value < 0 ? 0 : value);
}
inline void ReadValue(const Stmt& stmt, int col, bool& out) { out = stmt.ColumnInt(col) != 0; }
inline void ReadValue(const Stmt& stmt, int col, std::uint64_t& out) {
  out = std::bit_cast<std::uint64_t>(stmt.ColumnInt(col));
}
inline void ReadValue(const Stmt& stmt, int col, std::chrono::seconds& out) {
  out = std::chrono::seconds(stmt.ColumnInt(col));
}

template <typename Record>
struct Column {
  std::string_view name;
  void (*bind)(Stmt& stmt, int index, const Record& record);
  void (*read)(const Stmt& stmt, int col, Record& record);
};

template <typename Member>
struct MemberOf;
template <typename Record, typename Field>
struct MemberOf<Field Record::*> {
  using RecordType = Record;
};

// Field<&UserRecord::name>("name"): the column `name` holds UserRecord::name.
template <auto kMember>
constexpr Column<typename MemberOf<decltype(kMember)>::RecordType> Field(std::string_view name) {
  using Record = typename MemberOf<decltype(kMember)>::RecordType;
  return {name, [](Stmt& stmt, int index, const Record& r) { BindValue(stmt, index, r.*kMember); },
          [](const Stmt& stmt, int col, Record& r) { ReadValue(stmt, col, r.*kMember); }};
}

template <typename Record>
using Columns = std::span<const Column<Record>>;

// "a, b, c"
template <typename Record>
std::string ColumnList(Columns<Record> columns) {
  std::string out;
  for (const Column<Record>& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

// "INSERT INTO table (a, b, c) VALUES (?1, ?2, ?3)"; bind with BindRow.
template <typename Record>
std::string InsertSql(std::string_view table, Columns<Record> columns) {
  std::string values;
  for (std::size_t i = 1; i <= columns.size(); ++i) {
    values += (i == 1 ? "?" : ", ?") + std::to_string(i);
  }
  return "INSERT INTO " + std::string(table) + " (" + ColumnList(columns) + ") VALUES (" + values +
         ")";
}

// "SELECT a, b, c FROM table <rest>"; read with ReadRow.
template <typename Record>
std::string SelectSql(std::string_view table, Columns<Record> columns, std::string_view rest) {
  return "SELECT " + ColumnList(columns) + " FROM " + std::string(table) + " " + std::string(rest);
}

// Binds the record's fields to ?first, ?first+1, ... in column order.
template <typename Record>
Stmt& BindRow(Stmt& stmt, Columns<Record> columns, const Record& record, int first = 1) {
  int index = first;
  for (const Column<Record>& c : columns) c.bind(stmt, index++, record);
  return stmt;
}

// Reads the current row, whose first columns are `columns` in order.
template <typename Record>
Record ReadRow(const Stmt& stmt, Columns<Record> columns) {
  Record record{};
  int col = 0;
  for (const Column<Record>& c : columns) c.read(stmt, col++, record);
  return record;
}

}  // namespace gate::ca::sqlite

#endif  // GATE_CA_STORE_SQLITE_COLUMNS_H_
