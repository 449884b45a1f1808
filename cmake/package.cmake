# The Debian package (scripts/package builds it: the tested RelWithDebInfo build with the
# prefix /usr and GL_PACKAGE=ON, then `cpack -G DEB`). On top of what
# `cmake --install` writes (CMakeLists.txt), the package layout adds
#   /etc/glyphic/glyphic.conf          a conffile: the example, every key at its default
#   /etc/nginx/snippets/glyphic/       the include files for an existing nginx (render-nginx
#                                      --snippets with the package's paths), conffiles
#   /etc/logrotate.d/glyphic           for log.file under /var/log/glyphic
#   /usr/share/doc/glyphic/            copyright, changelog.gz, README.Debian
# and the maintainer scripts of scripts/debian/ (the user glyphic,
# /var/lib/glyphic, the credential key; purge removes them).
option(GL_PACKAGE "Install the Debian package's layout too (scripts/package)" OFF)

if(GL_PACKAGE)
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    message(FATAL_ERROR "GL_PACKAGE needs -DCMAKE_INSTALL_PREFIX=/usr")
  endif()
  set(GL_DEB ${CMAKE_SOURCE_DIR}/scripts/debian)
  install(FILES ${GL_DEB}/logrotate DESTINATION /etc/logrotate.d RENAME glyphic)
  install(FILES ${GL_DEB}/copyright ${GL_DEB}/README.Debian DESTINATION ${CMAKE_INSTALL_DOCDIR})
  install(CODE "
    file(MAKE_DIRECTORY \"${CMAKE_BINARY_DIR}/package\")
    execute_process(COMMAND \"${CMAKE_BINARY_DIR}/cli/glyphic\" config --example
                    OUTPUT_FILE \"${CMAKE_BINARY_DIR}/package/glyphic.conf\" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"glyphic config --example failed\")
    endif()
    file(INSTALL \"${CMAKE_BINARY_DIR}/package/glyphic.conf\" DESTINATION /etc/glyphic)
    execute_process(COMMAND \"${CMAKE_SOURCE_DIR}/scripts/render-nginx\" --snippets
                      --out \"${CMAKE_BINARY_DIR}/package/snippets\" --conf-dir /etc/nginx/snippets/glyphic
                      --socket /run/glyphic/fcgi.sock --events /run/glyphic/events.sock
                      --webroot /usr/share/glyphic/web --files-dir /var/lib/glyphic/files
                      --max-file-body 268435456 --user www-data
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"render-nginx failed\")
    endif()
    file(GLOB snippets \"${CMAKE_BINARY_DIR}/package/snippets/*.conf\")
    file(INSTALL \${snippets} DESTINATION /etc/nginx/snippets/glyphic)
    file(WRITE \"${CMAKE_BINARY_DIR}/package/changelog\"
      \"glyphic (${PROJECT_VERSION}) unstable; urgency=medium\\n\\n  * Package built from the source tree.\\n\\n -- The Glyphic developers <dev@glyphic.org>  Fri, 04 Dec 2026 00:00:00 +0000\\n\")
    execute_process(COMMAND gzip -9nf \"${CMAKE_BINARY_DIR}/package/changelog\")
    file(INSTALL \"${CMAKE_BINARY_DIR}/package/changelog.gz\" DESTINATION /usr/share/doc/glyphic)
  ")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME glyphic)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "The Glyphic developers <dev@glyphic.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "workflow automation served by nginx, kept in PostgreSQL")
set(CPACK_PACKAGE_DESCRIPTION "Glyphic runs workflows drawn in a browser editor on triggers (manual,
webhook, schedule, another workflow), keeps every execution step in
PostgreSQL, retries what fails and keeps secrets encrypted. nginx serves the
editor and forwards the API to a prefork FastCGI server; an executor drains
a PostgreSQL job table from systemd or cron.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx | nginx-light, postgresql (>= 15)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# every file the package puts in /etc is a conffile: dpkg keeps the
# administrator's changes on upgrade
file(GLOB GL_NGINX_TEMPLATES RELATIVE ${CMAKE_SOURCE_DIR}/nginx ${CMAKE_SOURCE_DIR}/nginx/glyphic-*.conf.in)
list(REMOVE_ITEM GL_NGINX_TEMPLATES glyphic-hooks-server.conf.in)
set(GL_CONFFILES "/etc/glyphic/glyphic.conf\n/etc/glyphic/glyphic.conf.example\n/etc/logrotate.d/glyphic\n")
foreach(t ${GL_NGINX_TEMPLATES})
  string(REGEX REPLACE "[.]in$" "" t ${t})
  string(APPEND GL_CONFFILES "/etc/nginx/snippets/glyphic/${t}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/package-control/conffiles ${GL_CONFFILES})
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/package-control/conffiles
  ${CMAKE_SOURCE_DIR}/scripts/debian/postinst
  ${CMAKE_SOURCE_DIR}/scripts/debian/prerm
  ${CMAKE_SOURCE_DIR}/scripts/debian/postrm)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
