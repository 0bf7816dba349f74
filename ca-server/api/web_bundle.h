// The web UI's files, built from web/ by esbuild and compiled into gate-ca
// (cmake/WebBundle.cmake generates the definition at build time), so
// gate-ca needs neither Node nor files beside it at run time.
//
// Thread safety: the table is a constant.
#ifndef GATE_CA_API_WEB_BUNDLE_H_
#define GATE_CA_API_WEB_BUNDLE_H_

#include <span>
#include <string_view>

namespace gate::ca {

struct WebBundleFile {
  // "login.html" for a page, "assets/login-3KQ2VB7A.js" for an asset (its
  // name carries a hash of its content, so it may be cached for good).
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
};

// Every file of the bundle; empty when gate-ca was built with
// -DGATE_WEB_UI=OFF.
std::span<const WebBundleFile> WebBundleFiles();

}  // namespace gate::ca

#endif  // GATE_CA_API_WEB_BUNDLE_H_
