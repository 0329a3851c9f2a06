{
  "targets": [
    {
      "target_name": "shmbridge",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_cc": ["-fvisibility=hidden", "-std=c++17"],
      "xcode_settings": { "GCC_SYMBOLS_PRIVATE_EXTERN": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
      "conditions": [["OS=='linux'", { "libraries": ["-lrt"] }]]
    },
    {
      "target_name": "shmbridge-tracker",
      "type": "executable",
      "sources": ["native/tracker.c"],
      "conditions": [["OS=='linux'", { "libraries": ["-lrt"] }]]
    }
  ]
}
