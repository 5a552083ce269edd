#!/bin/sh
# Prints the exchanges of storagetest's setup(index, coll): CreateIndex then
# CreateCollection with the suite's mappings. Used to write transcripts:
#   sh setup.sh sct-crud docs >> es8/DocumentCRUD.http
i=$1 c=$2
cat <<EOT
# setup: CreateIndex("$i")
> GET /_cat/aliases/@&$i.*?format=json
< 200
< []

> PUT /&$i._kuzzle_keep
> {"aliases":{"@&$i._kuzzle_keep":{}},"settings":{"number_of_shards":1,"number_of_replicas":1}}
< 200
< {"acknowledged":true,"shards_acknowledged":true,"index":"&$i._kuzzle_keep"}

# setup: CreateCollection("$i", "$c") with the suite's mappings
> GET /_cat/aliases/@&$i.*?format=json
< 200
< [{"alias":"@&$i._kuzzle_keep","index":"&$i._kuzzle_keep","filter":"-","routing.index":"-","routing.search":"-","is_write_index":"-"}]

> HEAD /_alias/@&$i.$c
< 404

> PUT /&$i.$c
> {"aliases":{"@&$i.$c":{}},
>  "mappings":{"dynamic":"false","properties":{
>    "name":{"type":"keyword"},"city":{"type":"keyword"},"age":{"type":"integer"},"tags":{"type":"keyword"},
>    "info":{"properties":{"rank":{"type":"integer"}}},
>    "_kuzzle_info":{"properties":{"author":{"type":"keyword"},"createdAt":{"type":"date"},"updater":{"type":"keyword"},"updatedAt":{"type":"date"}}}}},
>  "settings":{"number_of_shards":1,"number_of_replicas":1}}
< 200
< {"acknowledged":true,"shards_acknowledged":true,"index":"&$i.$c"}

> DELETE /&$i._kuzzle_keep
< 200
< {"acknowledged":true}

EOT
