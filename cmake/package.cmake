# The Debian package (CPack DEB): `tools/package` builds build/package/redundancy_<version>_<arch>.deb. It holds
# the install rules' files under /usr plus the conffile /etc/redundancy/redundancy.json (the example config
# with system paths), which dpkg never overwrites on upgrade. Runtime dependencies come from dpkg-shlibdeps.

# The system config: the example with the state, log and project folders of a system install. Each replacement
# must hit, so a reworded example fails here rather than shipping project-relative paths.
set(redundancy_system_config ${CMAKE_BINARY_DIR}/package-conf/redundancy.json)
file(READ ${CMAKE_SOURCE_DIR}/conf/redundancy.example.json config_text)
foreach(pair
    "\"project_dir\": \"\\.\",[ ]*//[^\n]*|\"project_dir\": \"/srv/project\",         // the watched project's root: set it (and the unit's ReadWritePaths=)"
    "\"state_dir\": \"automation\",[ ]*//|\"state_dir\": \"/var/lib/redundancy\",     // StateDirectory= of redundancy.service:"
    "\"log_dir\": \"automation/logs\",[ ]*//|\"log_dir\": \"/var/log/redundancy\",       // LogsDirectory= of redundancy.service:"
    "^// redundancy: example configuration[^$]*\\$REDUNDANCY_CONFIG\\.|// redundancy: the system configuration, read by redundancy.service (/etc/redundancy/redundancy.json).\n// It is the example configuration (/usr/share/doc/redundancy/redundancy.example.json) with the paths of a\n// system install: set project_dir and the project's apps, workflows and functions, then\n// `systemctl restart redundancy`. Package upgrades never overwrite this file.")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 pattern)
  list(GET pair 1 replacement)
  string(REGEX REPLACE "${pattern}" "${replacement}" replaced "${config_text}")
  if(replaced STREQUAL config_text)
    message(FATAL_ERROR "cmake/package.cmake: '${pattern}' not found in conf/redundancy.example.json")
  endif()
  set(config_text "${replaced}")
endforeach()
file(CONFIGURE OUTPUT ${redundancy_system_config} CONTENT "${config_text}" @ONLY)
# Only in the package: `cmake --install` into a prefix leaves /etc alone.
install(FILES ${redundancy_system_config} DESTINATION /etc/redundancy COMPONENT conffile EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME redundancy)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "watchdog for a web project's PM2 apps, GitHub workflows and Netlify functions")
set(CPACK_PACKAGE_DESCRIPTION
    "redundancy watches a web project's PM2 apps, GitHub Actions workflows and Netlify Functions, repairs them, and reports through an HTTP JSON API, a dashboard, Prometheus /metrics, a CLI, logs and systemd.")
set(CPACK_PACKAGE_CONTACT "redundancy maintainers <redundancy@localhost>")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
# Absolute paths (/etc) go through DESTDIR; everything else lands under /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The default component (bin, share, unit) and the conffile, in one package.
set(CPACK_COMPONENTS_ALL Unspecified conffile)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

set(CPACK_DEBIAN_PACKAGE_NAME redundancy)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages (libboost-json1.81.0, libyaml-cpp0.7, libssl3, ...) from dpkg-shlibdeps,
# appended to adduser (postinst creates the service user).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# The programs it runs: node for the Netlify harness and PM2, git for the workflows' repository.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nodejs, git")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/cmake/debian/conffiles
    ${CMAKE_SOURCE_DIR}/cmake/debian/postinst
    ${CMAKE_SOURCE_DIR}/cmake/debian/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The RelWithDebInfo binary is mostly debug information.
set(CPACK_STRIP_FILES ON)

include(CPack)
