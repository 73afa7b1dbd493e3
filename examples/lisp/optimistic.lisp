; Optimistic updates over the memcached protocol: read with gets, write with cas, and retry
; if someone else wrote in between. Works against any memcached-compatible server.

(define (update! key f)
  ; Applies f to the value of key until the cas succeeds; returns the new value.
  (let ((done nil) (result nil))
    (while (not done)
      (let ((item (gets key)))
        (if (nil? item)
            (error "no such key: {}" key))
        (let ((new (f (first item))))
          (if (cas key new (nth item 2))
              (begin (set! done true) (set! result new))))))
    result))

(set "balance" "100")
(println "after deposit:" (update! "balance" (lambda (v) (str (+ (parse-int v) 50)))))
(println "after fee:" (update! "balance" (lambda (v) (str (- (parse-int v) 3)))))

; A cas with a stale unique fails: somebody changed the value after our gets.
(define stale (gets "balance"))
(set "balance" "0")
(println "stale cas stored?" (cas "balance" "999" (nth stale 2)))
(println "missing key:" (try (update! "nope" (lambda (v) v)) (catch e e)))
