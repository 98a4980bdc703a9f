{
  "targets": [
    {
      "target_name": "earshot_native",
      "sources": ["earshot_native.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ],
  "conditions": [
    # The Opus encoder on the system libopus, where libopus-dev is installed; without it
    # src/opus.ts encodes through @discordjs/opus (see earshot_opus.c).
    ["'<!(pkg-config --exists opus && echo yes || echo no)'=='yes'", {
      "targets": [
        {
          "target_name": "earshot_opus",
          "sources": ["earshot_opus.c"],
          "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "<!@(pkg-config --cflags opus)"],
          "libraries": ["<!@(pkg-config --libs opus)"],
          "defines": ["NAPI_VERSION=8"]
        }
      ]
    }]
  ]
}
