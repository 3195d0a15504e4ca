# install() rules and the Debian package (CPack DEB): `scripts/dev.sh
# package` builds only what these need and writes build/package/*.deb.
# Files go where Debian 12 puts them: the units where its systemd.pc says
# (/lib/systemd/system), users and directories in sysusers.d/tmpfiles.d.
include(GNUInstallDirs)

# `cpack` and `cmake --install` need only what is installed, not every test.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

pkg_get_variable(TUPHAP_UNIT_DIR systemd systemdsystemunitdir)
pkg_get_variable(TUPHAP_SYSUSERS_DIR systemd sysusersdir)
pkg_get_variable(TUPHAP_TMPFILES_DIR systemd tmpfilesdir)
if(NOT TUPHAP_UNIT_DIR)  # no systemd.pc: Debian 12's places
  set(TUPHAP_UNIT_DIR /lib/systemd/system)
  set(TUPHAP_SYSUSERS_DIR /usr/lib/sysusers.d)
  set(TUPHAP_TMPFILES_DIR /usr/lib/tmpfiles.d)
endif()

set(_pkg ${PROJECT_SOURCE_DIR}/packaging)
set(_gen ${PROJECT_BINARY_DIR}/packaging)
set(TUPHAP_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/tuphap)

# Debian wants man pages and changelogs compressed, reproducibly (gzip -n).
configure_file(${_pkg}/changelog ${_gen}/changelog @ONLY)
add_custom_command(
  OUTPUT ${_gen}/tuphap.1.gz ${_gen}/changelog.gz
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/docs/man/tuphap.1 > ${_gen}/tuphap.1.gz
  COMMAND gzip -9nc ${_gen}/changelog > ${_gen}/changelog.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/tuphap.1 ${_gen}/changelog
  VERBATIM)
add_custom_target(tuphap_package_files ALL DEPENDS ${_gen}/tuphap.1.gz ${_gen}/changelog.gz)

install(TARGETS tuphap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${_gen}/tuphap.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_pkg}/tuphap.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME tuphap)
install(FILES ${_pkg}/tuphap.service ${_pkg}/tuphap@.service DESTINATION ${TUPHAP_UNIT_DIR})
install(FILES ${_pkg}/sysusers.conf DESTINATION ${TUPHAP_SYSUSERS_DIR} RENAME tuphap.conf)
install(FILES ${_pkg}/tmpfiles.conf DESTINATION ${TUPHAP_TMPFILES_DIR} RENAME tuphap.conf)
install(FILES ${PROJECT_SOURCE_DIR}/config/example.toml
        DESTINATION ${TUPHAP_DOC_DIR}/examples RENAME tuphap.toml)
install(FILES README.md docs/operator-guide.md docs/officer-guide.md docs/architecture.md
              docs/protocol.md docs/security.md docs/metrics.md ${_pkg}/copyright
              ${_gen}/changelog.gz
        DESTINATION ${TUPHAP_DOC_DIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tuphap)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tuphap maintainers <tuphap@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first sync node for commune justice offices")
set(CPACK_PACKAGE_DESCRIPTION
    "tuphap keeps a commune justice office's civil-status records in a local\n"
    "store, works without a network and syncs with the province hub\n"
    "(signed, encrypted changes over ZeroMQ), with a web app for officers.\n"
    "This package runs a node as a hardened systemd service.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages, found by dpkg-shlibdeps from the binary.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# useradd (postinst without systemd-sysusers) is in passwd.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_pkg}/postinst ${_pkg}/prerm ${_pkg}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_SOURCE_DIR}/build/package)
include(CPack)
