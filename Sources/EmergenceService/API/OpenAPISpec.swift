/// The served copy of /openapi.json (the repo root file is the one to edit; OpenAPITests fails when
/// the two differ or when a route is missing from either). Regenerate this file from it with
/// `python3 bench/service/embed_openapi.py`.
enum OpenAPISpec {
    static let bytes: [UInt8] = Array(text.utf8)

    static let text = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "emergence",
    "version": "1.0.0",
    "description": "Predicts the pretraining compute at which a capability emerges, from evaluations of pre-emergence checkpoints (Snell et al., 2024; see METHOD.md). Errors are RFC 9457 problem details. With EMERGENCE_TOKENS set, requests need `Authorization: Bearer TOKEN` (reads: read scope; writes: write; deleting a study: admin)."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "security": [
    {},
    {
      "bearerAuth": []
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "Liveness",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "The process is up.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "summary": "Readiness: the database answers",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Ready"
                }
              }
            }
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 description.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/studies": {
      "post": {
        "operationId": "createStudy",
        "summary": "Create a study",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/StudyCreate"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Study"
                }
              }
            },
            "headers": {
              "Location": {
                "schema": {
                  "type": "string"
                },
                "description": "/v1/studies/{id}"
              }
            }
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "get": {
        "operationId": "listStudies",
        "summary": "List studies",
        "parameters": [
          {
            "$ref": "#/components/parameters/limit"
          },
          {
            "$ref": "#/components/parameters/cursor"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of studies, oldest first.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StudyPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/studies/{study}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/study"
        }
      ],
      "get": {
        "operationId": "getStudy",
        "summary": "A study, by id or by name",
        "responses": {
          "200": {
            "description": "The study.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Study"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "delete": {
        "operationId": "deleteStudy",
        "summary": "Delete a study with its evaluations and fits (admin scope)",
        "responses": {
          "204": {
            "description": "Deleted."
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/studies/{study}/evaluations": {
      "parameters": [
        {
          "$ref": "#/components/parameters/study"
        }
      ],
      "post": {
        "operationId": "uploadEvaluations",
        "summary": "Upload evaluations (all or nothing; re-sent rows update)",
        "description": "Body: a JSON array of evaluations, {\"evaluations\": [...]}, NDJSON, CSV with the CLI's header, or an lm-evaluation-harness results file (older or 0.4 shape; query parameters supply what the file lacks and select the task and metric). Any of them may be sent with Content-Encoding: gzip. If any row is invalid the response is 422 listing every bad row and nothing is stored. A row's identity is (checkpoint, setting, shots, finetune_examples, subset). A gzip NDJSON body is inflated as it is parsed; one line may be at most 1 MiB.",
        "parameters": [
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/metric"
          },
          {
            "$ref": "#/components/parameters/qCheckpoint"
          },
          {
            "$ref": "#/components/parameters/qModel"
          },
          {
            "$ref": "#/components/parameters/qParameters"
          },
          {
            "$ref": "#/components/parameters/qTokens"
          },
          {
            "$ref": "#/components/parameters/qFlops"
          },
          {
            "$ref": "#/components/parameters/qPretrainLoss"
          },
          {
            "$ref": "#/components/parameters/qSetting"
          },
          {
            "$ref": "#/components/parameters/qShots"
          },
          {
            "$ref": "#/components/parameters/qFinetuneExamples"
          },
          {
            "$ref": "#/components/parameters/qSubset"
          },
          {
            "$ref": "#/components/parameters/qNQuestions"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "oneOf": [
                  {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/EvaluationInput"
                    }
                  },
                  {
                    "type": "object",
                    "required": [
                      "evaluations"
                    ],
                    "properties": {
                      "evaluations": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/EvaluationInput"
                        }
                      }
                    }
                  },
                  {
                    "$ref": "#/components/schemas/HarnessResults"
                  }
                ]
              }
            },
            "application/x-ndjson": {
              "schema": {
                "type": "string",
                "description": "One evaluation object per line."
              }
            },
            "text/csv": {
              "schema": {
                "type": "string",
                "description": "Header: checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions (any order; optional columns may be absent)."
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/UploadResult"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "get": {
        "operationId": "listEvaluations",
        "summary": "List a study's evaluations",
        "parameters": [
          {
            "$ref": "#/components/parameters/limit"
          },
          {
            "$ref": "#/components/parameters/cursor"
          },
          {
            "$ref": "#/components/parameters/fCheckpoint"
          },
          {
            "$ref": "#/components/parameters/fSetting"
          },
          {
            "$ref": "#/components/parameters/fSubset"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of evaluations in upload order.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EvaluationPage"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/studies/{study}/fits": {
      "parameters": [
        {
          "$ref": "#/components/parameters/study"
        }
      ],
      "post": {
        "operationId": "createFit",
        "summary": "Request a fit (queued; runs on the worker pool)",
        "description": "The same options on unchanged data return the existing fit (200) instead of queueing another.",
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/FitOptions"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Queued.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            },
            "headers": {
              "Location": {
                "schema": {
                  "type": "string"
                },
                "description": "/v1/fits/{id}"
              }
            }
          },
          "200": {
            "description": "The fit already made (or being made) for these options on this data.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            },
            "headers": {
              "Location": {
                "schema": {
                  "type": "string",
                  "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "get": {
        "operationId": "listFits",
        "summary": "A study's fits, newest first (without results)",
        "parameters": [
          {
            "$ref": "#/components/parameters/limit"
          },
          {
            "$ref": "#/components/parameters/cursor"
          },
          {
            "$ref": "#/components/parameters/fStatus"
          }
        ],
        "responses": {
          "200": {
            "description": "A page of fits.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FitPage"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/studies/{study}/prediction": {
      "parameters": [
        {
          "$ref": "#/components/parameters/study"
        }
      ],
      "get": {
        "operationId": "prediction",
        "summary": "The newest succeeded fit of the study",
        "parameters": [
          {
            "name": "If-None-Match",
            "in": "header",
            "required": false,
            "description": "An ETag from an earlier response: 304 when it still matches. Any other value (a field value may hold tabs, RFC 9110 §5.5) gets the document.",
            "schema": {
              "type": "string",
              "pattern": "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The fit document; its `result` is the `emergence fit` JSON.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            },
            "headers": {
              "ETag": {
                "schema": {
                  "type": "string",
                  "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
                }
              },
              "Cache-Control": {
                "schema": {
                  "type": "string",
                  "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
                }
              }
            }
          },
          "304": {
            "description": "Unchanged since the ETag given.",
            "headers": {
              "ETag": {
                "schema": {
                  "type": "string",
                  "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/v1/fits/{id}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/fitId"
        }
      ],
      "get": {
        "operationId": "getFit",
        "summary": "A fit: status, progress and (once succeeded) result",
        "responses": {
          "200": {
            "description": "The fit.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "delete": {
        "operationId": "cancelFit",
        "summary": "Cancel a queued or running fit",
        "responses": {
          "200": {
            "description": "Cancelled.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            }
          },
          "202": {
            "description": "Cancellation requested; the worker stops at its next check.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Fit"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer"
      }
    },
    "parameters": {
      "study": {
        "name": "study",
        "in": "path",
        "required": true,
        "description": "Study id or name.",
        "schema": {
          "type": "string",
          "minLength": 1,
          "pattern": "^[^/\\u0000-\\u001f\\u007f]+$"
        }
      },
      "fitId": {
        "name": "id",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string",
          "pattern": "^[0-9]{1,18}$"
        }
      },
      "limit": {
        "name": "limit",
        "in": "query",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        }
      },
      "cursor": {
        "name": "cursor",
        "in": "query",
        "required": false,
        "description": "next_cursor of the previous page.",
        "schema": {
          "type": "string",
          "pattern": "^[0-9]{0,18}$"
        }
      },
      "fCheckpoint": {
        "name": "checkpoint",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "fSetting": {
        "name": "setting",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "enum": [
            "few_shot",
            "finetuned"
          ]
        }
      },
      "fSubset": {
        "name": "subset",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "fStatus": {
        "name": "status",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "enum": [
            "queued",
            "running",
            "succeeded",
            "failed",
            "cancelled"
          ]
        }
      },
      "task": {
        "name": "task",
        "in": "query",
        "required": false,
        "description": "Harness files: the task to take (required when the file holds several).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "metric": {
        "name": "metric",
        "in": "query",
        "required": false,
        "description": "Harness files: the metric (default acc).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qCheckpoint": {
        "name": "checkpoint",
        "in": "query",
        "required": false,
        "description": "Harness files: checkpoint of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qModel": {
        "name": "model",
        "in": "query",
        "required": false,
        "description": "Harness files: model of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qParameters": {
        "name": "parameters",
        "in": "query",
        "required": false,
        "description": "Harness files: parameters of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qTokens": {
        "name": "tokens",
        "in": "query",
        "required": false,
        "description": "Harness files: tokens of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qFlops": {
        "name": "flops",
        "in": "query",
        "required": false,
        "description": "Harness files: flops of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qPretrainLoss": {
        "name": "pretrain_loss",
        "in": "query",
        "required": false,
        "description": "Harness files: pretrain_loss of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qSetting": {
        "name": "setting",
        "in": "query",
        "required": false,
        "description": "Harness files: setting of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qShots": {
        "name": "shots",
        "in": "query",
        "required": false,
        "description": "Harness files: shots of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qFinetuneExamples": {
        "name": "finetune_examples",
        "in": "query",
        "required": false,
        "description": "Harness files: finetune_examples of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qSubset": {
        "name": "subset",
        "in": "query",
        "required": false,
        "description": "Harness files: subset of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      },
      "qNQuestions": {
        "name": "n_questions",
        "in": "query",
        "required": false,
        "description": "Harness files: n_questions of the evaluation (overrides the file).",
        "schema": {
          "type": "string",
          "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
        }
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Malformed request or query parameter.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No valid bearer token.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "schema": {
              "type": "string",
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          }
        }
      },
      "Forbidden": {
        "description": "The token's scope is too weak.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such resource (the detail says why).",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Conflict": {
        "description": "The request conflicts with the resource's state.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "TooLarge": {
        "description": "The body exceeds the size limit.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "UnsupportedMediaType": {
        "description": "The Content-Type is not accepted.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Invalid": {
        "description": "Invalid body: every bad row and field is listed; nothing was stored.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/ValidationProblem"
            }
          }
        }
      },
      "Unavailable": {
        "description": "Not ready.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        },
        "headers": {
          "Retry-After": {
            "schema": {
              "type": "string",
              "pattern": "^[^\\u0000-\\u001f\\u007f]*$"
            }
          }
        }
      },
      "Error": {
        "description": "Any other error, as problem details.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      }
    },
    "schemas": {
      "Problem": {
        "type": "object",
        "required": [
          "type",
          "title",
          "status"
        ],
        "properties": {
          "type": {
            "type": "string"
          },
          "title": {
            "type": "string"
          },
          "status": {
            "type": "integer"
          },
          "detail": {
            "type": "string"
          },
          "errors": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/FieldError"
            }
          }
        }
      },
      "FieldError": {
        "type": "object",
        "required": [
          "field",
          "reason"
        ],
        "properties": {
          "index": {
            "type": "integer",
            "description": "0-based row of the upload; -1 for the body as a whole."
          },
          "line": {
            "type": "integer",
            "description": "1-based line (CSV, NDJSON, JSON syntax errors)."
          },
          "field": {
            "type": "string"
          },
          "reason": {
            "type": "string"
          }
        }
      },
      "ValidationProblem": {
        "allOf": [
          {
            "$ref": "#/components/schemas/Problem"
          },
          {
            "type": "object",
            "required": [
              "errors",
              "error_count"
            ],
            "properties": {
              "error_count": {
                "type": "integer"
              },
              "errors_truncated": {
                "type": "boolean"
              }
            }
          }
        ]
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "properties": {
          "status": {
            "const": "ok"
          }
        }
      },
      "Ready": {
        "type": "object",
        "required": [
          "status",
          "schema_version",
          "fits_running",
          "fits_queued"
        ],
        "properties": {
          "status": {
            "const": "ready"
          },
          "schema_version": {
            "type": "integer"
          },
          "fits_running": {
            "type": "integer"
          },
          "fits_queued": {
            "type": "integer"
          }
        }
      },
      "StudyCreate": {
        "type": "object",
        "required": [
          "name"
        ],
        "additionalProperties": false,
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^(?:[^/ \\t\\n\\r\\u0000-\\u001f\\u007f0-9]|[^/ \\t\\n\\r\\u0000-\\u001f\\u007f0-9][^/\\u0000-\\u001f\\u007f]*[^/ \\t\\n\\r\\u0000-\\u001f\\u007f]|[^/ \\t\\n\\r\\u0000-\\u001f\\u007f][^/\\u0000-\\u001f\\u007f]*[^/ \\t\\n\\r\\u0000-\\u001f\\u007f0-9]|[^/ \\t\\n\\r\\u0000-\\u001f\\u007f][^/\\u0000-\\u001f\\u007f]*[^/\\u0000-\\u001f\\u007f0-9][^/\\u0000-\\u001f\\u007f]*[^/ \\t\\n\\r\\u0000-\\u001f\\u007f])$",
            "description": "Unique; not all digits; no '/'."
          },
          "task": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 200
          },
          "chance": {
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "exclusiveMaximum": 1,
            "description": "Accuracy floor (0.25 for 4-way multiple choice)."
          },
          "shots": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "maximum": 1000000
          },
          "description": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 10000
          }
        }
      },
      "Study": {
        "type": "object",
        "required": [
          "id",
          "name",
          "data_version",
          "evaluations",
          "created_at"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "name": {
            "type": "string"
          },
          "task": {
            "type": "string"
          },
          "chance": {
            "type": "number"
          },
          "shots": {
            "type": "integer"
          },
          "description": {
            "type": "string"
          },
          "data_version": {
            "type": "integer",
            "description": "Bumped by every upload that changes a row."
          },
          "evaluations": {
            "type": "integer"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "StudyPage": {
        "type": "object",
        "required": [
          "studies"
        ],
        "properties": {
          "studies": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Study"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "EvaluationInput": {
        "type": "object",
        "required": [
          "checkpoint",
          "pretrain_loss",
          "setting",
          "accuracy"
        ],
        "description": "METHOD.md §2. Unknown keys are ignored; null means absent.",
        "properties": {
          "checkpoint": {
            "type": "string",
            "minLength": 1,
            "description": "Base-model checkpoint id (model + step)."
          },
          "model": {
            "type": [
              "string",
              "null"
            ]
          },
          "parameters": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0
          },
          "tokens": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0
          },
          "flops": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0,
            "description": "Pretraining FLOPs; default 6 · parameters · tokens."
          },
          "pretrain_loss": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Held-out pretraining loss, nats/token (the x-axis)."
          },
          "setting": {
            "type": "string",
            "enum": [
              "few_shot",
              "finetuned"
            ]
          },
          "shots": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0
          },
          "finetune_examples": {
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "description": "D; required (>= 1) for finetuned rows."
          },
          "subset": {
            "type": [
              "string",
              "null"
            ]
          },
          "accuracy": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "n_questions": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1
          }
        }
      },
      "Evaluation": {
        "type": "object",
        "required": [
          "id",
          "checkpoint",
          "pretrain_loss",
          "setting",
          "accuracy"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "checkpoint": {
            "type": "string",
            "minLength": 1,
            "description": "Base-model checkpoint id (model + step)."
          },
          "model": {
            "type": "string"
          },
          "parameters": {
            "type": "number",
            "exclusiveMinimum": 0
          },
          "tokens": {
            "type": "number",
            "exclusiveMinimum": 0
          },
          "flops": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Pretraining FLOPs; default 6 · parameters · tokens."
          },
          "pretrain_loss": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Held-out pretraining loss, nats/token (the x-axis)."
          },
          "setting": {
            "type": "string",
            "enum": [
              "few_shot",
              "finetuned"
            ]
          },
          "shots": {
            "type": "integer",
            "minimum": 0
          },
          "finetune_examples": {
            "type": "number",
            "minimum": 0,
            "description": "D; required (>= 1) for finetuned rows."
          },
          "subset": {
            "type": "string"
          },
          "accuracy": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "n_questions": {
            "type": "integer",
            "minimum": 1
          }
        }
      },
      "EvaluationPage": {
        "type": "object",
        "required": [
          "evaluations"
        ],
        "properties": {
          "evaluations": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Evaluation"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "HarnessResults": {
        "type": "object",
        "required": [
          "results"
        ],
        "description": "An lm-evaluation-harness results file.",
        "properties": {
          "results": {
            "type": "object",
            "additionalProperties": {
              "type": "object"
            }
          },
          "config": {
            "type": "object"
          },
          "n-shot": {
            "type": "object"
          },
          "n-samples": {
            "type": "object"
          }
        }
      },
      "UploadResult": {
        "type": "object",
        "required": [
          "format",
          "inserted",
          "updated",
          "data_version"
        ],
        "properties": {
          "format": {
            "type": "string",
            "enum": [
              "csv",
              "json",
              "ndjson",
              "lm-eval-harness"
            ]
          },
          "inserted": {
            "type": "integer"
          },
          "updated": {
            "type": "integer",
            "description": "Rows whose identity was already stored."
          },
          "data_version": {
            "type": "integer"
          }
        }
      },
      "ScalingLaw": {
        "type": "object",
        "required": [
          "l_inf",
          "a",
          "b"
        ],
        "properties": {
          "l_inf": {
            "type": "number",
            "minimum": 0
          },
          "a": {
            "type": "number",
            "exclusiveMinimum": 0
          },
          "b": {
            "type": "number",
            "exclusiveMinimum": 0
          }
        }
      },
      "FitOptions": {
        "type": "object",
        "additionalProperties": false,
        "description": "The CLI's options; every field optional.",
        "properties": {
          "form": {
            "type": "string",
            "enum": [
              "log_power",
              "power"
            ],
            "default": "log_power"
          },
          "d0": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 1,
            "description": "Default: the shots of the few-shot rows."
          },
          "delta": {
            "type": "boolean",
            "default": true
          },
          "noise": {
            "type": "string",
            "enum": [
              "gaussian",
              "binomial"
            ],
            "default": "gaussian"
          },
          "uncertainty": {
            "type": "string",
            "enum": [
              "bootstrap",
              "mcmc",
              "both",
              "none"
            ],
            "default": "bootstrap"
          },
          "bootstrap": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100000,
            "default": 1000
          },
          "resample": {
            "type": "string",
            "enum": [
              "checkpoints",
              "rows"
            ],
            "default": "checkpoints"
          },
          "mcmc_steps": {
            "type": "integer",
            "minimum": 100,
            "maximum": 1000000,
            "default": 2000
          },
          "mcmc_walkers": {
            "type": "integer",
            "minimum": 8,
            "maximum": 1024,
            "multipleOf": 2,
            "default": 32
          },
          "mcmc_burn_in": {
            "type": "integer",
            "minimum": 0,
            "maximum": 1000000,
            "default": 1000
          },
          "seed": {
            "type": "integer",
            "minimum": 0,
            "maximum": 18446744073709551615,
            "default": 0
          },
          "max_flops": {
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0,
            "description": "Fit only checkpoints with flops <= this."
          },
          "scaling_law": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/ScalingLaw"
              },
              {
                "type": "null"
              }
            ]
          }
        }
      },
      "Fit": {
        "type": "object",
        "required": [
          "id",
          "study",
          "status",
          "progress",
          "created_at",
          "options",
          "data_version",
          "result",
          "error"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "study": {
            "type": "integer"
          },
          "study_name": {
            "type": [
              "string",
              "null"
            ]
          },
          "status": {
            "type": "string",
            "enum": [
              "queued",
              "running",
              "succeeded",
              "failed",
              "cancelled"
            ]
          },
          "progress": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "created_at": {
            "type": "string"
          },
          "started_at": {
            "type": [
              "string",
              "null"
            ]
          },
          "finished_at": {
            "type": [
              "string",
              "null"
            ]
          },
          "options": {
            "$ref": "#/components/schemas/FitOptions"
          },
          "data_version": {
            "type": "integer"
          },
          "attempts": {
            "type": "integer"
          },
          "result": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/FitResult"
              },
              {
                "type": "null"
              }
            ]
          },
          "error": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "FitPage": {
        "type": "object",
        "required": [
          "fits"
        ],
        "properties": {
          "fits": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Fit"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "FitResult": {
        "type": "object",
        "description": "Exactly the JSON `emergence fit` prints (see the README).",
        "required": [
          "status",
          "warnings",
          "form",
          "delta",
          "noise",
          "seed",
          "data",
          "emergence",
          "uncertainty"
        ],
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok",
              "no_signal",
              "already_emerged",
              "insufficient_data"
            ]
          },
          "warnings": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "code",
                "message"
              ],
              "properties": {
                "code": {
                  "type": "string"
                },
                "message": {
                  "type": "string"
                }
              }
            }
          },
          "form": {
            "type": "string"
          },
          "d0": {
            "type": "number"
          },
          "delta": {
            "type": "boolean"
          },
          "noise": {
            "type": "string"
          },
          "seed": {
            "type": "integer"
          },
          "data": {
            "type": "object"
          },
          "parameters": {
            "type": "object"
          },
          "fit": {
            "type": "object"
          },
          "emergence": {
            "type": "object",
            "required": [
              "loss"
            ],
            "properties": {
              "loss": {
                "type": "object"
              },
              "flops": {
                "type": "object"
              },
              "probability_emerged": {
                "type": "array"
              }
            }
          },
          "uncertainty": {
            "type": "object"
          },
          "scaling_law": {
            "type": "object"
          }
        }
      }
    }
  }
}

"""#
}
