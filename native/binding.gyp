{
  "targets": [
    {
      "target_name": "earshot_native",
      "sources": ["earshot_native.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
