#include "common/http/assets.h"

#include <gtest/gtest.h>

#include "common/http/client.h"

namespace shardwise::http {
namespace {

const std::vector<Asset>& TestAssets() {
  static const std::vector<Asset> assets = {
      {"index.html", "text/html; charset=utf-8", "<html>home</html>"},
      {"js/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
  };
  return assets;
}

TEST(AssetsTest, ServesIndexAssetsAndRefusesTheRest) {
  Server s({});
  s.Handle("/ui/", AssetHandler(TestAssets(), "/ui/"));
  s.HandleExact("/ui", AssetHandler(TestAssets(), "/ui/"));
  ASSERT_TRUE(s.Start().ok());
  Client c;
  std::string base = "http://" + s.address();

  for (const char* path : {"/ui/", "/ui"}) {
    auto r = c.DoSync({.url = base + path});
    ASSERT_TRUE(r.ok()) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, "<html>home</html>");
  }
  auto js = c.DoSync({.url = base + "/ui/js/app.js"});
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(FindHeader(js->headers, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(FindHeader(js->headers, "Content-Security-Policy").find("default-src 'self'"),
            std::string_view::npos);
  EXPECT_EQ(FindHeader(js->headers, "X-Content-Type-Options"), "nosniff");

  // A revalidation with the current ETag costs no body.
  std::string etag(FindHeader(js->headers, "ETag"));
  ASSERT_FALSE(etag.empty());
  auto again = c.DoSync({.url = base + "/ui/js/app.js", .headers = {{"If-None-Match", etag}}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  EXPECT_EQ(c.DoSync({.url = base + "/ui/missing.js"})->status, 404);
  EXPECT_EQ(c.DoSync({.url = base + "/ui/../etc/passwd"})->status, 404);
  EXPECT_EQ(c.DoSync({.method = "POST", .url = base + "/ui/"})->status, 405);
}

}  // namespace
}  // namespace shardwise::http
