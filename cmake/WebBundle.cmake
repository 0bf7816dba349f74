# The web UI (web/): npm ci into the build dir, esbuild, and a generated C++
# source that compiles the result into gate-ca (docs/web.md says why it is
# embedded rather than installed beside the binary).
#
# npm ci runs only when web/package-lock.json changes (a stamp file records
# the last run), so a build dir whose node_modules exists builds offline.
option(GATE_WEB_UI "Build the web UI into gate-ca (needs Node.js and npm at build time)" ON)

# Sets <out_var> to the generated source that defines gate::ca::WebBundleFiles().
function(gate_web_bundle out_var)
  set(web_src ${PROJECT_SOURCE_DIR}/web)
  set(web_build ${CMAKE_BINARY_DIR}/web)
  set(bundle_cc ${web_build}/web_bundle.cc)
  set(embed_script ${PROJECT_SOURCE_DIR}/cmake/EmbedWebBundle.cmake)

  if(NOT GATE_WEB_UI)
    add_custom_command(OUTPUT ${bundle_cc}
      COMMAND ${CMAKE_COMMAND} -DOUTPUT=${bundle_cc} -P ${embed_script}
      DEPENDS ${embed_script}
      COMMENT "web UI off (GATE_WEB_UI=OFF): empty bundle")
    set(${out_var} ${bundle_cc} PARENT_SCOPE)
    return()
  endif()

  find_program(GATE_NPM npm)
  find_program(GATE_NODE NAMES node nodejs)
  if(NOT GATE_NPM OR NOT GATE_NODE)
    message(FATAL_ERROR
      "gate's web UI is built with Node.js and npm, which were not found. Install them "
      "(scripts/install-deps installs Debian's nodejs and npm), or configure with "
      "-DGATE_WEB_UI=OFF to build gate-ca without its web UI.")
  endif()

  # At configure time: the commands below run in it, and a fresh build dir
  # has none until then.
  file(MAKE_DIRECTORY ${web_build})
  set(stamp ${web_build}/npm-ci.stamp)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -E copy ${web_src}/package.json ${web_src}/package-lock.json
            ${web_build}/
    COMMAND ${GATE_NPM} ci --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    WORKING_DIRECTORY ${web_build}
    DEPENDS ${web_src}/package.json ${web_src}/package-lock.json
    COMMENT "npm ci (web/package-lock.json changed)"
    VERBATIM)

  file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web_src}/src/*)
  set(dist ${web_build}/dist)
  add_custom_command(OUTPUT ${bundle_cc}
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${dist}
    # NODE_PATH: the sources' imports (asciinema-player) resolve from the
    # build dir's node_modules, not from beside the sources.
    COMMAND ${CMAKE_COMMAND} -E env NODE_PATH=${web_build}/node_modules
            ${web_build}/node_modules/.bin/esbuild
            ${web_src}/src/home.js ${web_src}/src/login.js ${web_src}/src/signup.js
            ${web_src}/src/sessions.js ${web_src}/src/session.js ${web_src}/src/terminal.js
            ${web_src}/src/style.css
            # --splitting: what a page imports with import() (the session
            # page's player or terminal) becomes a chunk fetched when needed.
            --bundle --splitting --minify --format=esm --target=es2020 --charset=utf8
            --legal-comments=none --entry-names=[name]-[hash] --chunk-names=chunk-[hash]
            --outdir=${dist}/assets
            --log-level=warning
    COMMAND ${CMAKE_COMMAND} -DPAGES=${web_src}/src/pages -DDIST=${dist} -DOUTPUT=${bundle_cc}
            -P ${embed_script}
    WORKING_DIRECTORY ${web_build}
    DEPENDS ${stamp} ${web_sources} ${embed_script}
    COMMENT "esbuild: web UI bundle"
    VERBATIM)
  set(${out_var} ${bundle_cc} PARENT_SCOPE)
endfunction()
