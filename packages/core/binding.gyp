{
  "targets": [
    {
      "target_name": "shmbridge",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17"],
      # No -fvisibility=hidden: built with it, a worker thread that had mapped a block
      # crashed the process when its isolate was torn down (SIGSEGV in V8's
      # ArrayBufferSweeper::ReleaseAll; test/shared-memory.worker-threads.test.ts).
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
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
