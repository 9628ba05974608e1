# Install rules: `cmake --install build --prefix P` lays out P/bin, P/share/redundancy (dashboard and helper
# scripts), P/share/doc/redundancy and P/lib/systemd/system. The daemon finds P/share/redundancy/web from its
# own location (P/bin/redundancy), so any prefix works without configuring http.web_root.
include(GNUInstallDirs)

install(TARGETS redundancy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/redundancy/web)
# The Netlify invoke harness: the daemon runs the copy compiled into it (written to its state_dir); this one
# is for reading and for running a function by hand: node invoke_harness.mjs FILE NAME v1|v2 TIMEOUT_MS.
install(FILES ${CMAKE_SOURCE_DIR}/src/netlify/invoke_harness.mjs DESTINATION ${CMAKE_INSTALL_DATADIR}/redundancy)
install(FILES ${CMAKE_SOURCE_DIR}/conf/redundancy.example.json ${CMAKE_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/conf/prometheus DESTINATION ${CMAKE_INSTALL_DOCDIR})
# systemd's system unit folder is lib/systemd/system under /usr and /usr/local alike (never lib64 or a multiarch one).
install(FILES ${CMAKE_SOURCE_DIR}/conf/redundancy.service DESTINATION lib/systemd/system)
