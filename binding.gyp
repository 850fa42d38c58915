{
  "targets": [
    {
      "target_name": "xenvirt",
      # Every native/*.cc is part of the addon: each module registers itself in addon.cc,
      # so adding a module never means editing this file.
      "sources": [ "<!@(node -p \"require('fs').readdirSync('native').filter(f=>f.endsWith('.cc')).map(f=>'native/'+f).join(' ')\")" ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions" ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter" ],
      "conditions": [
        [ "OS!='linux'", { "defines": [ "XENVIRT_NO_XEN" ] } ]
      ]
    }
  ]
}
