{
  "targets": [
    {
      "target_name": "napi_floor",
      "sources": ["napi-floor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-fvisibility=hidden", "-std=c++17"],
      "conditions": [["OS=='linux'", { "libraries": ["-lrt"] }]]
    }
  ]
}
